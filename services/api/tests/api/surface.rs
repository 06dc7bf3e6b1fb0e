//! The HTTP surface as a whole: the OpenAPI document matches the routes served,
//! every error is JSON, CORS, metrics.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::{ADMIN_TOKEN, HOUSEHOLD, pdf, set, spawn_app, spawn_app_with};

#[tokio::test]
async fn every_documented_route_is_served_and_the_document_names_them_all() {
    let app = spawn_app().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    // The document is built from the same registrations that serve the routes
    // (utoipa-actix-web), so what it lists is what is served; below, each one is
    // shown to answer.
    let served: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();

    // Every response is described, as OpenAPI 3.1 requires.
    assert_eq!(doc["openapi"], "3.1.0");
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                let description = response["description"].as_str().unwrap_or_default();
                assert!(
                    !description.is_empty(),
                    "{method} {path} {status} has no description"
                );
            }
        }
    }

    // What the issue asks for is all there.
    for (method, path) in [
        ("POST", "/admin/books/upload"),
        ("GET", "/books/{id}/status"),
        ("GET", "/books/{id}/chunks"),
        ("GET", "/books/{id}/chunks/{ordinal}"),
        ("GET", "/households/{id}/books"),
        ("DELETE", "/admin/books/{id}"),
        ("POST", "/admin/books/{id}/reprocess"),
        ("GET", "/jobs/{id}"),
        ("GET", "/admin/jobs"),
        ("POST", "/admin/jobs/{id}/retry"),
        ("GET", "/health"),
        ("GET", "/health/ready"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
    ] {
        assert!(
            served.contains(&(method.to_owned(), path.to_owned())),
            "{method} {path}"
        );
    }

    // Every served route answers (no route falls through to "no such route").
    for (method, path) in &served {
        let concrete = path
            .replace("{id}", &uuid::Uuid::new_v4().to_string())
            .replace("{ordinal}", "0");
        let res = app
            .client
            .request(method.parse().unwrap(), app.url(&concrete))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap_or_default();
        assert!(
            !body.contains("no such route") && status != 405,
            "{method} {path} is documented but not served: {status} {body}"
        );
    }

    // Parameters and error bodies are described.
    let chunks = &doc["paths"]["/books/{id}/chunks"]["get"];
    let params: Vec<&str> = chunks["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, vec!["id", "after", "limit", "kind"]);
    let chunk = &doc["components"]["schemas"]["ChunkResponse"];
    let required = |field: &str| {
        chunk["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|f| f == field))
    };
    for field in ["kind", "sentences", "page_start"] {
        assert!(required(field), "{field} required: {chunk}");
        assert!(chunk["properties"][field].is_object(), "{field}: {chunk}");
    }
    assert!(!required("chapter"), "chapter may be null: {chunk}");
    assert_eq!(
        chunks["responses"]["404"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
    assert!(doc["components"]["securitySchemes"]["admin_token"].is_object());
}

#[tokio::test]
async fn every_rejection_is_a_json_error_body() {
    let app = spawn_app().await;
    let cases = [
        (reqwest::Method::GET, "/nope".to_owned(), 404, "not_found"),
        (
            reqwest::Method::POST,
            "/health".to_owned(),
            405,
            "method_not_allowed",
        ),
        (
            reqwest::Method::PUT,
            "/admin/books/upload".to_owned(),
            405,
            "method_not_allowed",
        ),
        (
            reqwest::Method::GET,
            "/books/123/status".to_owned(),
            400,
            "bad_request",
        ),
        (
            reqwest::Method::GET,
            format!("/households/{HOUSEHOLD}/books?limit=lots"),
            400,
            "bad_request",
        ),
    ];
    for (method, path, status, code) in cases {
        let res = app
            .client
            .request(method.clone(), app.url(&path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status, "{method} {path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], code, "{method} {path}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let app =
        spawn_app_with(|_, vars| set(vars, "ALLOWED_ORIGINS", "https://app.example.com")).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(
                reqwest::Method::OPTIONS,
                app.url("/books/00000000-0000-0000-0000-000000000000/status"),
            )
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let ok = preflight("https://app.example.com").await.unwrap();
    assert!(ok.status().is_success());
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let allowed = ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("content-type"),
        "{allowed}"
    );
    let denied = preflight("https://evil.example.com").await.unwrap();
    assert!(
        denied
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_uploads_and_errors() {
    let app = spawn_app().await;
    app.upload_ok(HOUSEHOLD, pdf("m"), "m.pdf").await;
    app.get("/no/such/thing").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains(
            "http_requests_total{method=\"POST\",route=\"/admin/books/upload\",status=\"200\"}"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "http_request_duration_seconds_bucket{method=\"POST\",route=\"/admin/books/upload\""
        ),
        "latency histogram"
    );
    assert!(text.contains("upload_bytes_total"));
    assert!(text.contains("http_errors_total{code=\"not_found\"}"));
    assert!(
        !text.contains("/no/such/thing"),
        "raw paths never become labels"
    );
}

#[tokio::test]
async fn the_admin_console_is_served_with_a_strict_content_security_policy() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 308);
    assert_eq!(res.headers()["location"], "/admin/");
    for (path, kind, contains) in [
        (
            "/admin/",
            "text/html",
            "<script src=\"/admin/app.js\" defer></script>",
        ),
        ("/admin/app.js", "text/javascript", "sessionStorage"),
        ("/admin/app.css", "text/css", "@media"),
    ] {
        // No token: the page holds no secret and no data.
        let res = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let headers = res.headers().clone();
        assert!(
            headers["content-type"].to_str().unwrap().starts_with(kind),
            "{path}"
        );
        let csp = headers["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let body = res.text().await.unwrap();
        assert!(body.contains(contains), "{path}");
    }
    // The page has no inline script or style for the policy to refuse.
    let html = client
        .get(app.url("/admin/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "no inline script or style"
    );
}

#[tokio::test]
async fn the_openapi_document_declares_the_bounds_the_server_enforces() {
    let app = spawn_app().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    let param = |path: &str, name: &str| -> Value {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path} has no {name}"))["schema"]
            .clone()
    };
    for path in [
        "/books/{id}/chunks",
        "/households/{id}/books",
        "/admin/jobs",
        "/books/{id}/continue",
    ] {
        let limit = param(path, "limit");
        assert_eq!(
            (limit["minimum"].as_i64(), limit["maximum"].as_i64()),
            (Some(1), Some(200)),
            "{path}"
        );
    }
    assert_eq!(
        param("/books/{id}/chunks", "after")["minimum"].as_i64(),
        Some(-1)
    );
    // Every kind of chunk is in the pattern clients are given.
    for path in ["/books/{id}/chunks", "/books/{id}/continue"] {
        let pattern = param(path, "kind")["pattern"].as_str().unwrap().to_owned();
        for kind in shared_domain::domain::ChunkKind::ALL {
            assert!(
                pattern.contains(kind.as_str()),
                "{path}: {kind:?} missing from {pattern}"
            );
        }
    }
    // And the server keeps to them: 0 and 201 are refused, 200 and -1 taken.
    let id = uuid::Uuid::new_v4();
    for (query, status) in [("limit=0", 400), ("limit=201", 400), ("after=-2", 400)] {
        let res = app
            .get_as(&format!("/books/{id}/chunks?{query}"), ADMIN_TOKEN)
            .await;
        assert_eq!(res.status().as_u16(), status, "{query}");
    }
    for query in ["limit=200", "after=-1", "cursor="] {
        let path = if query.starts_with("cursor") {
            format!("/admin/jobs?{query}")
        } else {
            format!("/books/{id}/chunks?{query}")
        };
        let res = app.get_as(&path, ADMIN_TOKEN).await;
        assert_ne!(res.status().as_u16(), 400, "{query}");
    }
}

#[tokio::test]
async fn a_refused_cors_preflight_answers_in_the_error_shape() {
    let app = spawn_app().await;
    let res = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            app.url("/households/7d444840-9dc0-11d1-b245-5ffdce74fad2/books"),
        )
        .header("Origin", "https://not-ours.example")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{:?}",
        res.headers()
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "bad_request", "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn a_405_names_the_allowed_methods() {
    let app = spawn_app().await;
    let res = app
        .client
        .request(
            reqwest::Method::TRACE,
            app.url("/books/7d444840-9dc0-11d1-b245-5ffdce74fad2/position"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(res.headers()["allow"], "GET, HEAD, PUT");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "method_not_allowed");
}

#[tokio::test]
async fn a_concrete_path_answers_for_itself_before_a_templated_one() {
    let app = spawn_app().await;
    // `/admin/books/upload` takes POST; `/admin/books/{id}` takes DELETE. A DELETE
    // of the first is a 405 from it (as OpenAPI resolves paths), not a delete of a
    // book whose id is "upload".
    let res = app
        .client
        .delete(app.url("/admin/books/upload"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(res.headers()["allow"], "POST");
    // A path no route has is a 404 whatever the method.
    let res = app.client.patch(app.url("/books")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
}

#[tokio::test]
async fn made_up_methods_do_not_grow_the_metrics() {
    let app = spawn_app().await;
    for i in 0..200 {
        let method =
            reqwest::Method::from_bytes(format!("MADEUP{i}{}", "X".repeat(i * 10)).as_bytes())
                .unwrap();
        let _ = app
            .client
            .request(method, app.url("/health"))
            .send()
            .await
            .unwrap();
    }
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(!text.contains("MADEUP"), "a client's method became a label");
    assert!(text.contains("method=\"other\""), "counted as other");
}

#[tokio::test]
async fn without_a_metrics_token_metrics_are_refused_through_a_proxy() {
    let app = spawn_app().await;
    // Straight from the private network (or this host): served.
    assert_eq!(app.get("/metrics").await.status().as_u16(), 200);
    // Through a platform's edge, which always adds a forwarding header: refused.
    for (name, value) in [
        ("x-forwarded-for", "203.0.113.7"),
        ("forwarded", "for=203.0.113.7;proto=https"),
        ("x-real-ip", "203.0.113.7"),
    ] {
        let res = app
            .client
            .get(app.url("/metrics"))
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 403, "{name}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "forbidden");
        assert!(body["message"].as_str().unwrap().contains("METRICS_TOKEN"));
    }
    // The rest of the api is unaffected.
    let health = app
        .client
        .get(app.url("/health"))
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

#[tokio::test]
async fn metrics_answer_only_the_metrics_token_when_one_is_set() {
    let app =
        spawn_app_with(|_, v| set(v, "METRICS_TOKEN", "metrics-token-0123456789abcdef")).await;
    let anonymous = app.get("/metrics").await;
    assert_eq!(anonymous.status().as_u16(), 401);
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Bearer realm=\"metrics\""
    );
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");
    // Not the admin token either: metrics have their own.
    assert_eq!(
        app.get_as("/metrics", ADMIN_TOKEN).await.status().as_u16(),
        401
    );
    let right = app
        .get_as("/metrics", "metrics-token-0123456789abcdef")
        .await;
    assert_eq!(right.status().as_u16(), 200);
    assert!(right.text().await.unwrap().contains("http_requests_total"));
    // With the token, a scrape through the public domain works too.
    let proxied = app
        .client
        .get(app.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.7")
        .bearer_auth("metrics-token-0123456789abcdef")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status().as_u16(), 200);
    assert_eq!(app.get("/health").await.status().as_u16(), 200);

    // A token too short to be a secret stops the start, naming the variable.
    let env = test_support::TestEnv::new().await;
    let mut vars = crate::helpers::vars(&env);
    set(&mut vars, "METRICS_TOKEN", "short");
    let error =
        api::Config::from_vars(&shared_domain::Vars::from_pairs(vars)).expect_err("refused");
    assert!(error.to_string().contains("METRICS_TOKEN"), "{error}");
}

#[tokio::test]
async fn head_is_answered_as_get_without_the_body() {
    let app = spawn_app().await;
    // Uptime monitors often check with HEAD.
    let res = app.client.head(app.url("/health")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let length: usize = res.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(length > 0, "the GET's length is kept");
    assert!(res.bytes().await.unwrap().is_empty(), "no body with HEAD");
    // Behind authentication and lookups, the same answer as GET.
    let path = format!("/books/{}/status", uuid::Uuid::new_v4());
    let res = app
        .client
        .head(app.url(&path))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    // Not where there is no GET.
    let res = app
        .client
        .head(app.url("/admin/books/upload"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(res.headers()["allow"], "POST");
}
