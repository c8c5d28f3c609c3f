//! Building and running the server. `main` and the test harness start the app the same way.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_cors::Cors;
use actix_web::dev::Service;
use actix_web::http::header::{self, HeaderName};
use actix_web::http::{Method, StatusCode};
use actix_web::{App, HttpMessage, HttpServer, web};
use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::clock::Clock;
use crate::config::Settings;
use crate::http;
use crate::jobs;
use crate::mail::dispatcher::Dispatcher;
use crate::service::AppState;
use crate::service::Db;
use crate::telemetry::{self, QifuRootSpan};

pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Connects, migrates, binds (port 0 picks a free one) and prepares the server.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Application> {
        let db = Db::connect(&settings.database)?;
        {
            let db = db.clone();
            tokio::task::spawn_blocking(move || db.migrate()).await??;
        }
        let jwt_secret = settings.resolve_jwt_secret()?;
        let listener = TcpListener::bind(&settings.server.bind)
            .with_context(|| format!("binding {}", settings.server.bind))?;
        let port = listener.local_addr()?.port();
        let console = web::Data::new(crate::web::Console::new(&settings, &jwt_secret)?);
        let state = web::Data::new(AppState::new(db, settings, clock, &jwt_secret)?);
        let server = server(listener, state.clone(), console)?;
        Ok(Application {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGINT/SIGTERM, with the mail dispatcher and the sweeps beside it. On a
    /// stop signal the server finishes in-flight requests, the dispatcher finishes the message
    /// it is sending, and everything is given `server.shutdown_grace_seconds`.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let background = self.spawn_background(stop_rx)?;
        let result = self.server.await;
        let _ = stop_tx.send(true);
        let grace = Duration::from_secs(self.state.settings.server.shutdown_grace_seconds);
        for task in background {
            if tokio::time::timeout(grace, task).await.is_err() {
                tracing::warn!("a background task did not stop within the grace period");
            }
        }
        tracing::info!("stopped");
        Ok(result?)
    }

    /// The server future alone, with background tasks the caller controls (tests).
    pub fn spawn_background(
        &self,
        stop: watch::Receiver<bool>,
    ) -> anyhow::Result<Vec<JoinHandle<()>>> {
        let state = self.state.clone();
        let dispatcher =
            Dispatcher::new(state.db.clone(), state.clock.clone(), &state.settings.mail)?;
        Ok(vec![
            tokio::spawn(dispatcher.run(stop.clone())),
            tokio::spawn(jobs::run(state.into_inner(), stop)),
        ])
    }

    pub fn into_server(self) -> actix_web::dev::Server {
        self.server
    }
}

fn cors(settings: &Settings) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::RETRY_AFTER,
            HeaderName::from_static("x-request-id"),
        ])
        .max_age(3600);
    for origin in &settings.server.cors_allowed_origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// One builder chain on purpose, though long: the order of the `wrap` calls is the order the
/// middleware runs in (last added runs first), which only reads right in one place.
fn server(
    listener: TcpListener,
    state: web::Data<AppState>,
    console: web::Data<crate::web::Console>,
) -> anyhow::Result<actix_web::dev::Server> {
    let settings = state.settings.clone();
    let openapi = http::openapi::document();
    let methods = http::MethodTable::of(&openapi);
    let mut server = HttpServer::new(move || {
        let metrics_state = state.clone();
        let metrics_methods = methods.clone();
        App::new()
            .app_data(state.clone())
            .app_data(web::Data::from(methods.clone()))
            .app_data(console.clone())
            .app_data(web::FormConfig::default().limit(state.settings.server.body_limit_bytes))
            .app_data(http::json_config(state.settings.server.body_limit_bytes))
            .app_data(web::PayloadConfig::new(
                state.settings.server.body_limit_bytes,
            ))
            .app_data(http::query_config())
            .app_data(http::path_config())
            // HEAD is GET without the body (RFC 9110 9.3.2): every GET route answers it, and
            // the HTTP layer sends no body for a HEAD request.
            .wrap_fn(|mut req, srv| {
                if req.method() == Method::HEAD {
                    req.head_mut().method = Method::GET;
                }
                srv.call(req)
            })
            .wrap(cors(&state.settings))
            .wrap(actix_web::middleware::Compress::default())
            .wrap_fn(move |req, srv| {
                let started = Instant::now();
                let method = req.method().to_string();
                let state = metrics_state.clone();
                let methods = metrics_methods.clone();
                let fut = srv.call(req);
                async move {
                    let res = fut.await?;
                    let route = res.request().match_pattern().or_else(|| {
                        (res.status() == StatusCode::METHOD_NOT_ALLOWED)
                            .then(|| methods.pattern(res.request().path()).map(str::to_owned))
                            .flatten()
                    });
                    state.metrics.observe_request(
                        &method,
                        route.as_deref(),
                        res.status().as_u16(),
                        started.elapsed().as_secs_f64(),
                    );
                    Ok(res)
                }
            })
            .wrap(TracingLogger::<QifuRootSpan>::new())
            .wrap_fn(|req, srv| {
                let id = telemetry::request_id_for(&req);
                req.extensions_mut().insert(id.clone());
                let fut = srv.call(req);
                async move {
                    let mut res = fut.await?;
                    telemetry::set_request_id_header(&mut res, &id);
                    let path = res.request().path().to_owned();
                    http::security_headers(&path, res.headers_mut());
                    Ok(res)
                }
            })
            .service(SwaggerUi::new("/docs/{_:.*}").url("/api/v1/openapi.json", openapi.clone()))
            .service(web::redirect("/docs", "/docs/"))
            .into_utoipa_app()
            .configure(http::routes)
            .into_app()
            .configure(crate::web::routes)
            .default_service(web::to(crate::web::not_found))
    })
    .listen(listener)?
    .shutdown_timeout(settings.server.shutdown_grace_seconds);
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(server.run())
}
