//! Identity: registration, sessions, passwords, administration.
