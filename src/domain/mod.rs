pub mod credit_code;
pub mod password;
pub mod routing;
pub mod sla;
pub mod throttle;
pub mod ticket;
