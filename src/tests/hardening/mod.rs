//! Issue 19: what an outside review found, each kept as a test that fails
//! if the hole comes back.

mod first_sync;
mod head;
mod host;
mod limits;
mod sessions;

/// One HTTP exchange written by hand, for the traffic a real client will
/// not send (hyper always adds a Host and frames a known-size body with
/// Content-Length): a request with no Host at all (HTTP/1.0), and a
/// chunked body with no Content-Length. The raw response text.
async fn raw_exchange(addr: std::net::SocketAddr, request: impl AsRef<str>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_ref().as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf).into_owned()
}
