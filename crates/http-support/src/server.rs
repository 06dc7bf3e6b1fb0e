//! The HTTP server both services run: their app factory on a bound listener,
//! answers sent at once, signals left to the service's own shutdown handling, and
//! in-flight requests drained within the grace period on stop.

use std::fmt;
use std::net::TcpListener;
use std::time::Duration;

use actix_http::{Request, Response};
use actix_service::{IntoServiceFactory, Service, ServiceFactory};
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, Server};
use actix_web::{Error, HttpServer};

/// Serve `factory`'s app on `listener`. The returned server runs once awaited;
/// stopping it (its handle's `stop(true)`) waits up to `grace` for requests in
/// flight.
pub fn serve<F, I, S, B>(
    listener: TcpListener,
    grace: Duration,
    factory: F,
) -> std::io::Result<Server>
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
    Ok(HttpServer::new(factory)
        // Answers go out at once, not held back by Nagle until the last one is ACKed.
        .tcp_nodelay(true)
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(grace.as_secs())
        .run())
}
