use super::*;

const SECRET: &str = "jwt-secret-jwt-secret-jwt-secret-jwt";
const JWKS: &str = "https://project.supabase.co/auth/v1/.well-known/jwks.json";

fn jwt(pairs: &[(&str, &str)]) -> Result<JwtConfig, ConfigError> {
    JwtConfig::from_vars(&Vars::from_pairs(pairs.iter().copied()))
}

#[test]
fn user_tokens_need_the_legacy_secret_or_the_signing_keys_or_both() {
    let none = jwt(&[]).unwrap_err();
    assert_eq!(none.var, "SUPABASE_JWT_SECRET");
    assert!(none.to_string().contains("SUPABASE_JWKS_URL"), "{none}");

    let secret = jwt(&[("SUPABASE_JWT_SECRET", SECRET)]).unwrap();
    assert!(secret.secret.is_some() && secret.jwks_url.is_none());
    assert_eq!(secret.household_claim, "household_id");

    let keys = jwt(&[("SUPABASE_JWKS_URL", JWKS)]).unwrap();
    assert!(keys.secret.is_none());
    assert_eq!(keys.jwks_url.unwrap().as_str(), JWKS);

    let both = jwt(&[("SUPABASE_JWT_SECRET", SECRET), ("SUPABASE_JWKS_URL", JWKS)]).unwrap();
    assert!(both.secret.is_some() && both.jwks_url.is_some());
    assert!(!format!("{both:?}").contains(SECRET));
}

#[test]
fn dev_and_prod_keep_apart_by_default() {
    let redis = |pairs: &[(&str, &str)]| {
        RedisConfig::from_vars(&Vars::from_pairs(
            [("REDIS_URL", "redis://127.0.0.1:6379")]
                .into_iter()
                .chain(pairs.iter().copied()),
        ))
    };
    assert_eq!(redis(&[]).unwrap().namespace, "readme");
    assert_eq!(
        redis(&[("RAILWAY_ENVIRONMENT_NAME", "production")])
            .unwrap()
            .namespace,
        "readme_prod"
    );
    assert_eq!(
        redis(&[
            ("APP_ENV", "dev"),
            ("RAILWAY_ENVIRONMENT_NAME", "production")
        ])
        .unwrap()
        .namespace,
        "readme_dev"
    );
    let crossed = redis(&[("APP_ENV", "prod"), ("REDIS_NAMESPACE", "readme_dev")]).unwrap_err();
    assert_eq!(crossed.var, "REDIS_NAMESPACE");
    assert!(redis(&[("APP_ENV", "prod"), ("REDIS_NAMESPACE", "readme")]).is_ok());
    assert!(redis(&[("REDIS_NAMESPACE", "readme_dev")]).is_ok());
    assert_eq!(redis(&[("APP_ENV", "pr 12")]).unwrap_err().var, "APP_ENV");
}

#[test]
fn a_short_secret_or_a_bad_jwks_url_is_named() {
    assert_eq!(
        jwt(&[("SUPABASE_JWT_SECRET", "short")]).unwrap_err().var,
        "SUPABASE_JWT_SECRET"
    );
    for url in [
        "not a url",
        "ftp://project.supabase.co/jwks.json",
        "project.supabase.co/jwks",
    ] {
        assert_eq!(
            jwt(&[("SUPABASE_JWKS_URL", url), ("SUPABASE_JWT_SECRET", SECRET)])
                .unwrap_err()
                .var,
            "SUPABASE_JWKS_URL",
            "{url}"
        );
    }
}
