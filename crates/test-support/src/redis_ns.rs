//! A fresh Redis namespace per test; its keys are deleted when it drops.

use shared_domain::{RedisConfig, Vars};

use crate::required_env;

pub struct TestRedis {
    pub url: String,
    pub namespace: String,
}

impl TestRedis {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self {
            url: required_env("TEST_REDIS_URL"),
            namespace: format!("test-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    pub fn config(&self) -> RedisConfig {
        RedisConfig::from_vars(&Vars::from_pairs([
            ("REDIS_URL", self.url.as_str()),
            ("REDIS_NAMESPACE", self.namespace.as_str()),
        ]))
        .expect("test redis config")
    }

    /// A plain synchronous connection, for assertions.
    pub fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url.as_str())
            .and_then(|c| c.get_connection())
            .unwrap_or_else(|e| panic!("cannot connect to the test Redis ({e}); is it running? Start it with scripts/test"))
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let Ok(mut conn) = redis::Client::open(self.url.as_str()).and_then(|c| c.get_connection())
        else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.namespace))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}
