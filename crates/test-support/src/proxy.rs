//! A TCP proxy in front of a real server, which a test can cut: every open
//! connection is closed and new ones are refused, as when a server dies. Cutting
//! the proxy instead of the server leaves the shared test server up for others.

use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

pub struct TcpProxy {
    pub port: u16,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl TcpProxy {
    /// Forward 127.0.0.1:<new port> to `target` (host:port).
    pub async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let tasks: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let registry = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                registry
                    .lock()
                    .expect("proxy registry")
                    .push(conn.abort_handle());
            }
        });
        tasks
            .lock()
            .expect("proxy registry")
            .push(accept.abort_handle());
        Self { port, tasks }
    }

    /// Close every connection and stop accepting new ones.
    pub fn cut(&self) {
        for task in self.tasks.lock().expect("proxy registry").drain(..) {
            task.abort();
        }
    }

    /// `url` with its host and port replaced by this proxy's.
    pub fn url_for(&self, url: &str) -> String {
        let mut parsed = url::Url::parse(url).expect("a URL");
        parsed.set_host(Some("127.0.0.1")).expect("set host");
        parsed.set_port(Some(self.port)).expect("set port");
        parsed.to_string()
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
    }
}
