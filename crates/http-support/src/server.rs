//! The HTTP server both services run: their app factory on a bound listener,
//! answers sent at once, signals left to the service's own shutdown handling, and
//! in-flight requests drained within the grace period on stop. [`serve`] gives a
//! [`BoundServer`]: the port it listens on, a handle to stop it, and the run until
//! SIGTERM/SIGINT.

use std::fmt;
use std::net::TcpListener;
use std::time::Duration;

use actix_http::{Request, Response};
use actix_service::{IntoServiceFactory, Service, ServiceFactory};
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, Server, ServerHandle};
use actix_web::{Error, HttpServer};
use shared_domain::lifecycle;

/// A server bound to its port, not yet running.
pub struct BoundServer {
    port: u16,
    server: Server,
}

impl BoundServer {
    /// The port it listens on (the one the OS picked when the config said 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from outside (tests stop one in process this way).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serve until SIGTERM/SIGINT, then drain in-flight requests within the grace period.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let handle = self.server.handle();
        lifecycle::serve_until_shutdown(self.server, move || handle.stop(true)).await
    }
}

/// Serve `factory`'s app on `listener`. The returned server runs once
/// [`BoundServer::run_until_stopped`] is awaited; stopping it waits up to `grace`
/// for requests in flight.
pub fn serve<F, I, S, B>(
    listener: TcpListener,
    grace: Duration,
    factory: F,
) -> std::io::Result<BoundServer>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<Error> + 'static,
    S::InitError: fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(factory)
        // Answers go out at once, not held back by Nagle until the last one is ACKed.
        .tcp_nodelay(true)
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(grace.as_secs())
        .run();
    Ok(BoundServer { port, server })
}
