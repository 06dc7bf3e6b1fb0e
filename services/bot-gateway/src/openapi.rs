//! `GET /openapi.json`: the gateway's HTTP surface as OpenAPI 3.1. Written by
//! hand (the gateway has few routes); the route-table test keeps it complete, and
//! Schemathesis in `scripts/test` keeps the server to it.

use serde_json::{Value, json};

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

/// The document.
pub fn document() -> Value {
    let sid = json!({
        "name": "sid", "in": "path", "required": true,
        "description": "The session id /api/start returned",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$"}
    });
    let user = json!([{"user": []}]);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "readme bot gateway",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Starts Pipecat bot sessions for signed-in users and keeps their call state. Errors are {error, message, info}; info is what Pipecat's client-js shows."
        },
        "components": {
            "securitySchemes": {
                "user": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "A Supabase access token"},
                "service": {"type": "http", "scheme": "bearer", "description": "SERVICE_API_TOKEN (the bot)"},
                "metrics": {"type": "http", "scheme": "bearer", "description": "METRICS_TOKEN, when set"}
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message", "info"],
                    "properties": {
                        "error": {"type": "string", "description": "A stable code"},
                        "message": {"type": "string"},
                        "info": {"type": "string", "description": "The same message, where client-js looks"},
                        "upstreamCode": {"type": "string", "description": "Pipecat's own code, when it gave one"}
                    }
                },
                "StartRequest": {
                    "type": "object",
                    "properties": {
                        "transport": {"enum": ["daily", "webrtc", null], "description": "Omitted or null: BOT_DEFAULT_TRANSPORT"},
                        "body": {
                            "type": ["object", "null"],
                            "description": "Forwarded to the bot: only the fields BOT_BODY_FIELDS allows (by default bookId/book_id, listener, ordinal; null is as absent), others dropped; identity is set by the server",
                            "properties": {
                                "bookId": {"type": ["string", "null"], "format": "uuid", "pattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"},
                                "book_id": {"type": ["string", "null"], "format": "uuid", "pattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"},
                                "listener": {"type": ["string", "null"], "pattern": "^[A-Za-z0-9._-]{1,64}$"},
                                "ordinal": {"type": ["integer", "null"], "minimum": 0, "maximum": 2147483647}
                            }
                        }
                    }
                },
                "Started": {
                    "type": "object",
                    "required": ["sessionId"],
                    "properties": {
                        "sessionId": {"type": "string"},
                        "dailyRoom": {"type": "string", "description": "daily only"},
                        "dailyToken": {"type": "string", "description": "daily only"},
                        "iceConfig": {"type": "object", "description": "webrtc only, when the bot service gives one"}
                    }
                },
                "Session": {
                    "type": "object",
                    "required": ["sessionId", "status", "transport"],
                    "properties": {
                        "sessionId": {"type": "string"},
                        "status": {"type": "string"},
                        "transport": {"type": "string"},
                        "householdId": {"type": ["string", "null"]},
                        "startedAt": {"type": ["string", "null"]},
                        "endedAt": {"type": ["string", "null"]}
                    }
                },
                "Events": {
                    "type": "object",
                    "required": ["sessionId", "events"],
                    "properties": {
                        "sessionId": {"type": "string"},
                        "events": {"type": "array", "items": {"type": "object"}}
                    }
                },
                "Event": {
                    "type": "object",
                    "required": ["type"],
                    "description": "{type: up to 64 letters, digits, '_' or '.'} and anything else the bot reports; a position event is {type: \"position\", book_id, ordinal, offset?, seq?, listener?}",
                    "properties": {"type": {"type": "string", "pattern": "^[A-Za-z0-9_.]{1,64}$"}}
                }
            }
        },
        "paths": {
            "/health": {"get": {
                "tags": ["operations"], "summary": "Liveness",
                "responses": {"200": {"description": "Up", "content": {"application/json": {"schema": {"type": "object", "required": ["status", "service"]}}}}}
            }},
            "/health/ready": {"get": {
                "tags": ["operations"], "summary": "Readiness: Redis answers, the JWT signing keys are loaded",
                "responses": {
                    "200": {"description": "Ready", "content": {"application/json": {"schema": {"type": "object", "required": ["status", "checks"]}}}},
                    "503": error("A dependency is down")
                }
            }},
            "/metrics": {"get": {
                "tags": ["operations"], "summary": "Prometheus metrics",
                "security": [{}, {"metrics": []}],
                "responses": {
                    "200": {"description": "Text format", "content": {"text/plain": {"schema": {"type": "string"}}}},
                    "401": error("METRICS_TOKEN is set and not carried"),
                    "403": error("No METRICS_TOKEN, and the request came through a proxy")
                }
            }},
            "/openapi.json": {"get": {
                "tags": ["operations"], "summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }},
            "/api/start": {"post": {
                "tags": ["sessions"], "summary": "Start a bot session for the signed-in user",
                "security": user,
                "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StartRequest"}}}},
                "responses": {
                    "200": {"description": "Started: what the transport needs", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Started"}}}},
                    "400": error("Malformed body, unknown transport, or a body field of the wrong shape"),
                    "401": error("No valid user token"),
                    "409": error("The user already has a call"),
                    "413": error("Body over 1 MiB"),
                    "429": error("Too many starts (Retry-After)"),
                    "502": error("The bot service answered wrongly"),
                    "503": error("Redis or the bot service is unavailable (Retry-After)"),
                    "504": error("The bot service did not answer in time")
                }
            }},
            "/api/sessions/{sid}": {
                "parameters": [sid],
                "get": {
                    "tags": ["sessions"], "summary": "One of the user's sessions",
                    "security": user,
                    "responses": {
                        "200": {"description": "The session", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Session"}}}},
                        "401": error("No valid user token"),
                        "404": error("No such session of this user"),
                        "503": error("Redis is unavailable")
                    }
                },
                "delete": {
                    "tags": ["sessions"], "summary": "End the session (stops the bot)",
                    "security": user,
                    "responses": {
                        "204": {"description": "Ended"},
                        "401": error("No valid user token"),
                        "404": error("No such session of this user"),
                        "502": error("The bot service refused to stop it"),
                        "503": error("Redis or the bot service is unavailable"),
                        "504": error("The bot service did not answer in time")
                    }
                }
            },
            "/api/sessions/{sid}/events": {
                "parameters": [sid],
                "get": {
                    "tags": ["sessions"], "summary": "The session's timeline",
                    "security": user,
                    "responses": {
                        "200": {"description": "Events, oldest first", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Events"}}}},
                        "401": error("No valid user token"),
                        "404": error("No such session of this user"),
                        "503": error("Redis is unavailable")
                    }
                }
            },
            "/api/sessions/{sid}/api/offer": {
                "parameters": [sid],
                "post": offer(&user),
                "patch": offer(&user)
            },
            "/internal/sessions/{sid}/events": {
                "parameters": [sid],
                "post": {
                    "tags": ["internal"], "summary": "The bot reports an event (a position is stored durably)",
                    "security": [{"service": []}],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Event"}}}},
                    "responses": {
                        "202": {"description": "Recorded", "content": {"application/json": {"schema": {"type": "object", "required": ["id"]}}}},
                        "400": error("Malformed event"),
                        "401": error("Not the service token"),
                        "404": error("No such session"),
                        "413": error("Event over 8 KiB"),
                        "503": error("Redis is unavailable")
                    }
                }
            }
        }
    })
}

fn offer(user: &Value) -> Value {
    json!({
        "tags": ["sessions"], "summary": "SmallWebRTC offer or ICE candidates, forwarded to the session's bot",
        "security": user,
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {
            "200": {"description": "The bot's answer, as it gave it", "content": {"application/json": {"schema": {}}}},
            "400": error("Unreadable body"),
            "401": error("No valid user token"),
            "404": error("No such live session of this user"),
            "413": error("Body over 256 KiB"),
            "502": error("The bot refused it"),
            "503": error("The bot service is unavailable"),
            "504": error("The bot did not answer in time")
        }
    })
}
