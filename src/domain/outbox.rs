//! The life of a queued mail message.

named_enum! {
    pub enum OutboxStatus {
        Pending => "pending",
        Sent => "sent",
        /// An attempt failed; it will be retried.
        Failed => "failed",
        /// Gave up: too many attempts, or a permanent refusal.
        Dead => "dead",
    }
}

impl OutboxStatus {
    /// Messages the dispatcher still sends (once their `next_attempt_at` comes).
    pub const DUE: [OutboxStatus; 2] = [OutboxStatus::Pending, OutboxStatus::Failed];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        crate::domain::assert_names(&OutboxStatus::ALL, &["pending", "sent", "failed", "dead"]);
    }
}
