//! moto_server (PyPI `moto[server]`) on a free loopback port, for the tests
//! that run the dashboard's SDK code against an implementation this
//! project did not write. `.ci/setup test` installs it; a test that needs
//! it fails, rather than skips, when it is missing.

use base64::Engine;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A moto_server process, killed on drop.
pub struct Moto {
    child: Child,
    pub url: String,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts moto_server on a free 127.0.0.1 port and waits until it listens.
pub async fn start() -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server must be installed (pip install 'moto[server]'); .ci/setup test installs it");
    let moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
        port,
    };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return moto;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("moto_server did not start listening on port {port} within 20 s");
}

impl Moto {
    /// One HTTP/1.1 request to moto (`service` names the backend in a
    /// SigV4-shaped Authorization header, which moto routes by and does not
    /// verify); the status and body of its answer.
    async fn request(
        &self,
        path: &str,
        service: &str,
        content_type: &str,
        body: &str,
    ) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("moto_server answers");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n\
             Content-Length: {len}\r\nConnection: close\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, \
             SignedHeaders=host, Signature=0\r\n\r\n",
            port = self.port,
            len = body.len(),
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(body.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    /// A rotation Lambda called `name` that moto can invoke: with Docker
    /// off (moto's `lambda.use_docker` setting) every invocation answers a
    /// canned success without running anything. Returns its ARN.
    pub async fn stub_lambda(&self, name: &str) -> String {
        let (status, body) = self
            .request(
                "/moto-api/config",
                "moto",
                "application/json",
                r#"{"lambda": {"use_docker": false}}"#,
            )
            .await;
        assert!((200..300).contains(&status), "moto config: {status} {body}");
        let role = "secretscope-rotation";
        let trust = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        let (status, body) = self
            .request(
                "/",
                "iam",
                "application/x-www-form-urlencoded",
                &format!(
                    "Action=CreateRole&Version=2010-05-08&RoleName={role}&AssumeRolePolicyDocument={trust}"
                ),
            )
            .await;
        assert_eq!(status, 200, "moto CreateRole: {body}");
        // An empty zip archive: moto keeps the code, never runs it.
        let zip = base64::engine::general_purpose::STANDARD
            .encode(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        let function = serde_json::json!({
            "FunctionName": name,
            "Runtime": "python3.12",
            "Role": format!("arn:aws:iam::123456789012:role/{role}"),
            "Handler": "lambda_function.lambda_handler",
            "Code": {"ZipFile": zip},
        });
        let (status, body) = self
            .request(
                "/2015-03-31/functions",
                "lambda",
                "application/json",
                &function.to_string(),
            )
            .await;
        assert_eq!(status, 201, "moto CreateFunction: {body}");
        let made: serde_json::Value =
            serde_json::from_str(&body).expect("CreateFunction answers JSON");
        made["FunctionArn"]
            .as_str()
            .expect("CreateFunction answers the ARN")
            .to_string()
    }
}

/// A fixture for the tests over moto: a new version of `name` with the id
/// `version`, made as AWS makes one (PutSecretValue without VersionStages
/// moves AWSCURRENT to it, and AWSPREVIOUS to the version before), not by
/// moto's RotateSecret without a Lambda, which AWS would refuse. Setup
/// only, with a placeholder value: the dashboard never writes one.
pub async fn new_version(c: &aws_sdk_secretsmanager::Client, name: &str, version: &str) {
    c.put_secret_value()
        .secret_id(name)
        .secret_string("placeholder")
        .client_request_token(version)
        .send()
        .await
        .unwrap();
}
