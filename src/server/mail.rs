//! Access-request mail over SMTP (`requests.smtp_url`), sent in the
//! background: a message that cannot be delivered is logged (with the
//! recipients and the server's answer) and never holds up a request.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// The mailer for `url` from `from`, or why it cannot be built (the
    /// sentence never repeats the URL: it may hold a password).
    pub fn new(url: &str, from: &str) -> Result<Mailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("requests.smtp_url is not a usable SMTP URL ({e})"))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from = from
            .parse()
            .map_err(|e| format!("requests.mail_from is not an address ({e})"))?;
        Ok(Mailer { transport, from })
    }

    /// Sends `subject` and `body` to every address in `to` that parses
    /// (others are logged and skipped), in the background.
    pub fn send(&self, to: &[String], subject: &str, body: &str) {
        let mut builder = Message::builder().from(self.from.clone()).subject(subject);
        let mut any = false;
        for addr in to {
            match addr.parse::<Mailbox>() {
                Ok(m) => {
                    builder = builder.to(m);
                    any = true;
                }
                Err(e) => tracing::warn!(address = %addr, "not mailed: not an address ({e})"),
            }
        }
        if !any {
            return;
        }
        let message = match builder.body(body.to_string()) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!("mail not built: {e}");
                return;
            }
        };
        let transport = self.transport.clone();
        let to = to.join(", ");
        tokio::spawn(async move {
            match transport.send(message).await {
                Ok(_) => tracing::info!(%to, "mail sent"),
                Err(e) => tracing::error!(%to, "mail not sent: {e}"),
            }
        });
    }
}
