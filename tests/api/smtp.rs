//! A real SMTP listener for the tests: speaks enough SMTP for lettre, keeps what it receives,
//! and can be taken down, brought back on the same port, or made to refuse mail.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// 550 on RCPT: a permanent refusal.
    RejectPermanent,
    /// 451 on RCPT: try later.
    RejectTemporary,
}

pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    mode: Arc<Mutex<Mode>>,
    task: Mutex<Option<JoinHandle<()>>>,
    sessions: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let sink = SmtpSink {
            port,
            received: Arc::default(),
            mode: Arc::new(Mutex::new(Mode::Accept)),
            task: Mutex::new(None),
            sessions: Arc::default(),
        };
        sink.serve(listener);
        sink
    }

    fn serve(&self, listener: TcpListener) {
        let received = self.received.clone();
        let mode = self.mode.clone();
        let sessions = self.sessions.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handle = tokio::spawn(session(stream, received.clone(), mode.clone()));
                sessions.lock().unwrap().push(handle);
            }
        });
        *self.task.lock().unwrap() = Some(task);
    }

    /// Stops listening and drops open sessions: connections are refused until `up`.
    pub fn down(&self) {
        if let Some(task) = self.task.lock().unwrap().take() {
            task.abort();
        }
        for session in self.sessions.lock().unwrap().drain(..) {
            session.abort();
        }
    }

    pub async fn up(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn to(&self, address: &str) -> Vec<Received> {
        self.messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == address))
            .collect()
    }

    /// Waits up to `seconds` for at least `n` messages in all.
    pub async fn wait_for(&self, n: usize, seconds: u64) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
        loop {
            let messages = self.messages();
            if messages.len() >= n || tokio::time::Instant::now() > deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.down();
    }
}

async fn session(stream: TcpStream, received: Arc<Mutex<Vec<Received>>>, mode: Arc<Mutex<Mode>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut rcpt = Vec::new();
    let _ = write.write_all(b"220 qifu-test-sink ESMTP\r\n").await;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            b"250-qifu-test-sink\r\n250 8BITMIME\r\n"
        } else if command.starts_with("HELO") || command.starts_with("MAIL FROM") {
            rcpt.clear();
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO") {
            match *mode.lock().unwrap() {
                Mode::Accept => {
                    let address = line.trim_end()[8..].trim().trim_start_matches('<');
                    rcpt.push(address.trim_end_matches('>').to_lowercase());
                    b"250 OK\r\n"
                }
                Mode::RejectPermanent => b"550 5.1.1 no such user\r\n",
                Mode::RejectTemporary => b"451 4.3.0 try again later\r\n",
            }
        } else if command == "DATA" {
            let _ = write.write_all(b"354 end with .\r\n").await;
            let mut data = Vec::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                data.extend_from_slice(unstuffed.as_bytes());
            }
            let parsed = mail_parser::MessageParser::default().parse(&data);
            let message = Received {
                to: rcpt.clone(),
                subject: parsed
                    .as_ref()
                    .and_then(|m| m.subject())
                    .unwrap_or_default()
                    .to_owned(),
                text: parsed
                    .as_ref()
                    .and_then(|m| m.body_text(0))
                    .unwrap_or_default()
                    .into_owned(),
                html: parsed
                    .as_ref()
                    .and_then(|m| m.body_html(0))
                    .unwrap_or_default()
                    .into_owned(),
            };
            received.lock().unwrap().push(message);
            b"250 OK queued\r\n"
        } else if command == "QUIT" {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"250 OK\r\n"
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}
