//! Object storage behind the four operations the services need: a streamed put, a
//! streamed get, head and delete.
//!
//! `STORAGE_URL` picks the backend: `file:///path` (local disk, the default for
//! development), `s3://bucket/prefix` (AWS S3 and S3-compatible stores such as
//! Supabase Storage, Cloudflare R2 and MinIO, with endpoint, region, path style and
//! credentials from their own variables) or `gs://bucket/prefix` (Google Cloud
//! Storage, with a service account from its variables, or the metadata server's; or a
//! local emulator at `STORAGE_EMULATOR_HOST`, the variable Google's own client
//! libraries read, reached without credentials).
//!
//! Writes are multipart uploads: memory stays bounded by the part size times the
//! parts in flight, whatever the object's size, and an unfinished upload never
//! becomes visible under its key. A process can also bound what all its writers
//! hold together ([`Storage::with_write_budget`]): a writer reserves its most at
//! start, and one that cannot get its share in time is refused
//! ([`StorageError::Busy`]) rather than pushing the process out of memory.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::StaticCredentialProvider;
use object_store::aws::AmazonS3Builder;
use object_store::gcp::{GcpCredential, GoogleCloudStorageBuilder};
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::prefix::PrefixStore;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig, WriteMultipart,
};
use secrecy::ExposeSecret;
use tokio::io::AsyncWriteExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

mod config;

pub use config::{S3Config, StorageConfig};

/// Part size for multipart writes to object stores: S3's minimum (every part but
/// the last must be at least 5 MiB), which also keeps 10,000 parts above 48 GiB.
const REMOTE_PART_SIZE: usize = 5 * 1024 * 1024;
/// Local files take parts of any size; small parts keep each upload's memory small
/// (`scripts/bench upload`: 1 MiB parts held 83–94 MiB at 64 concurrent uploads).
const LOCAL_PART_SIZE: usize = 256 * 1024;
/// Parts uploaded concurrently by one writer. A writer holds at most
/// `part size × (PARTS_IN_FLIGHT + 1)` bytes.
const PARTS_IN_FLIGHT: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object {0} not found")]
    NotFound(String),
    #[error("storage refused our credentials or permissions: check the storage keys")]
    AccessDenied(#[source] object_store::Error),
    #[error("storage is misconfigured: {0}")]
    Config(String),
    #[error("storage request failed")]
    Backend(#[source] object_store::Error),
    #[error("local I/O failed while moving an object")]
    Io(#[from] std::io::Error),
    /// The process's write budget stayed spent for the whole wait.
    #[error("every write buffer is in use (the write budget is spent)")]
    Busy,
}

impl StorageError {
    fn from_store(key: &str, e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => Self::NotFound(key.to_owned()),
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. } => Self::AccessDenied(e),
            other => Self::Backend(other),
        }
    }
}

/// Size and time of a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub last_modified: chrono::DateTime<chrono::Utc>,
}

/// A handle on the configured object store; cheap to clone.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    backend: &'static str,
    budget: Option<WriteBudget>,
}

/// Memory all writers of a process may hold for their parts, counted in KiB.
#[derive(Clone)]
struct WriteBudget {
    kib: Arc<Semaphore>,
    total_kib: u32,
    wait: Duration,
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Storage {
    pub fn from_config(config: &StorageConfig) -> Result<Self, StorageError> {
        let retry = RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
        };
        let client = ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout(Duration::from_secs(120));
        let (store, backend): (Arc<dyn ObjectStore>, _) = match config {
            StorageConfig::File { root } => {
                std::fs::create_dir_all(root)?;
                let fs = LocalFileSystem::new_with_prefix(root)
                    .map_err(|e| StorageError::Config(e.to_string()))?;
                (Arc::new(fs.with_automatic_cleanup(true)), "file")
            }
            StorageConfig::S3(s3) => {
                let mut b = AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_virtual_hosted_style_request(!s3.force_path_style)
                    .with_retry(retry)
                    .with_client_options(client);
                if let Some(ep) = &s3.endpoint {
                    b = b
                        .with_endpoint(ep)
                        .with_allow_http(ep.starts_with("http://"));
                }
                if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                    b = b
                        .with_access_key_id(id)
                        .with_secret_access_key(secret.expose_secret());
                }
                if let Some(token) = &s3.session_token {
                    b = b.with_token(token.expose_secret());
                }
                let s3_store = b.build().map_err(|e| StorageError::Config(e.to_string()))?;
                (with_prefix(s3_store, &s3.prefix), "s3")
            }
            StorageConfig::Gcs {
                bucket,
                prefix,
                service_account_path,
                service_account_key,
                emulator_host,
            } => {
                let mut b = GoogleCloudStorageBuilder::new()
                    .with_bucket_name(bucket)
                    .with_retry(retry);
                if let Some(host) = emulator_host {
                    // An emulator takes no token: a static empty one keeps the client
                    // from asking the metadata server for a real one.
                    b = b
                        .with_base_url(host)
                        .with_credentials(Arc::new(StaticCredentialProvider::new(GcpCredential {
                            bearer: String::new(),
                        })))
                        .with_client_options(client.with_allow_http(host.starts_with("http://")));
                } else {
                    b = b.with_client_options(client);
                }
                if let Some(path) = service_account_path {
                    b = b.with_service_account_path(path);
                }
                if let Some(key) = service_account_key {
                    b = b.with_service_account_key(key.expose_secret());
                }
                let gcs = b.build().map_err(|e| StorageError::Config(e.to_string()))?;
                (with_prefix(gcs, prefix), "gcs")
            }
        };
        Ok(Self {
            store,
            backend,
            budget: None,
        })
    }

    /// Bound the memory all this handle's writers (and its clones') hold at once
    /// to `bytes`. Each writer reserves the most it can hold, its part size times
    /// the parts in flight plus the one filling, when it starts, and gives it back
    /// when it finishes, aborts or is dropped. A writer that cannot get its share
    /// within `wait` is refused with [`StorageError::Busy`]. A budget smaller
    /// than one writer's share lets one writer at a time, which then holds more
    /// than the budget.
    #[must_use]
    pub fn with_write_budget(mut self, bytes: u64, wait: Duration) -> Self {
        let total_kib = u32::try_from((bytes / 1024).max(1)).unwrap_or(u32::MAX);
        self.budget = Some(WriteBudget {
            kib: Arc::new(Semaphore::new(total_kib as usize)),
            total_kib,
            wait,
        });
        self
    }

    fn part_size(&self) -> usize {
        if self.backend == "file" {
            LOCAL_PART_SIZE
        } else {
            REMOTE_PART_SIZE
        }
    }

    /// The most one writer holds: the part filling and those in flight.
    pub fn writer_memory(&self) -> u64 {
        (self.part_size() * (PARTS_IN_FLIGHT + 1)) as u64
    }

    /// A writer's share of the budget, waited for; `None` without a budget.
    async fn reserve(&self) -> Result<Option<Reservation>, StorageError> {
        let Some(budget) = &self.budget else {
            return Ok(None);
        };
        let kib = u32::try_from(self.writer_memory() / 1024)
            .unwrap_or(u32::MAX)
            .min(budget.total_kib);
        let permit = tokio::time::timeout(budget.wait, budget.kib.clone().acquire_many_owned(kib))
            .await
            .map_err(|_| StorageError::Busy)?
            .map_err(|_| StorageError::Busy)?;
        // What the writer may really hold, even when the budget is smaller.
        let bytes = self.writer_memory() as f64;
        metrics::gauge!("storage_write_reserved_bytes").increment(bytes);
        Ok(Some(Reservation {
            _permit: permit,
            bytes,
        }))
    }

    /// `file`, `s3` or `gcs`.
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// Start a streamed write to `key`. Nothing is visible under the key until
    /// [`ObjectWriter::finish`] succeeds.
    /// With a write budget, it first waits for its share (see
    /// [`with_write_budget`](Self::with_write_budget)).
    pub async fn writer(&self, key: &str) -> Result<ObjectWriter, StorageError> {
        let reservation = self.reserve().await?;
        let upload = self
            .store
            .put_multipart(&StorePath::from(key))
            .await
            .map_err(|e| StorageError::from_store(key, e))?;
        Ok(ObjectWriter {
            inner: WriteMultipart::new_with_chunk_size(upload, self.part_size()),
            key: key.to_owned(),
            written: 0,
            _reservation: reservation,
        })
    }

    /// Write a whole stream to `key`; on any error the upload is aborted.
    pub async fn put_stream<S, E>(&self, key: &str, mut stream: S) -> Result<u64, StorageError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: Into<std::io::Error>,
    {
        let mut writer = self.writer(key).await?;
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => {
                    if let Err(e) = writer.write(bytes).await {
                        writer.abort().await;
                        return Err(e);
                    }
                }
                Err(e) => {
                    writer.abort().await;
                    return Err(StorageError::Io(e.into()));
                }
            }
        }
        writer.finish().await
    }

    /// The object's bytes as a stream.
    pub async fn get_stream(
        &self,
        key: &str,
    ) -> Result<BoxStream<'static, Result<Bytes, StorageError>>, StorageError> {
        let owned = key.to_owned();
        let result = self
            .store
            .get(&StorePath::from(key))
            .await
            .map_err(|e| StorageError::from_store(key, e))?;
        Ok(result
            .into_stream()
            .map_err(move |e| StorageError::from_store(&owned, e))
            .boxed())
    }

    /// Copy the object to a local file, holding one network chunk in memory at a time.
    pub async fn download_to(
        &self,
        key: &str,
        dest: &std::path::Path,
    ) -> Result<u64, StorageError> {
        let mut stream = self.get_stream(key).await?;
        let mut file = tokio::fs::File::create(dest).await?;
        let mut total = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            file.write_all(&chunk).await?;
            total += chunk.len() as u64;
        }
        file.flush().await?;
        file.sync_all().await?;
        Ok(total)
    }

    /// Size and time of the object, `None` when it does not exist.
    pub async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StorageError> {
        match self.store.head(&StorePath::from(key)).await {
            Ok(meta) => Ok(Some(ObjectInfo {
                size: meta.size,
                last_modified: meta.last_modified,
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(StorageError::from_store(key, e)),
        }
    }

    /// Delete the object; deleting a missing object succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&StorePath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(StorageError::from_store(key, e)),
        }
    }

    /// Move an object to a new key (atomic on local disk; copy then delete on object stores).
    pub async fn rename(&self, from: &str, to: &str) -> Result<(), StorageError> {
        self.store
            .rename(&StorePath::from(from), &StorePath::from(to))
            .await
            .map_err(|e| StorageError::from_store(from, e))
    }

    /// Every object under `prefix` (all objects when `None`), as (key, info).
    pub fn list(
        &self,
        prefix: Option<&str>,
    ) -> BoxStream<'static, Result<(String, ObjectInfo), StorageError>> {
        let prefix = prefix.map(StorePath::from);
        self.store
            .list(prefix.as_ref())
            .map_ok(|meta| {
                (
                    meta.location.to_string(),
                    ObjectInfo {
                        size: meta.size,
                        last_modified: meta.last_modified,
                    },
                )
            })
            .map_err(|e| StorageError::from_store("(listing)", e))
            .boxed()
    }

    /// Readiness probe: a head request on a key that need not exist. It proves the
    /// store answers and accepts our credentials.
    pub async fn check(&self) -> Result<(), StorageError> {
        self.head(".readiness-probe").await.map(|_| ())
    }
}

fn with_prefix<T: ObjectStore>(store: T, prefix: &str) -> Arc<dyn ObjectStore> {
    if prefix.is_empty() {
        Arc::new(store)
    } else {
        Arc::new(PrefixStore::new(store, prefix))
    }
}

/// An in-progress streamed write. Call [`finish`](Self::finish) to publish the
/// object or [`abort`](Self::abort) to discard it; dropping it discards the local
/// staging file but may leave an incomplete multipart upload on S3 until the bucket's
/// lifecycle rule removes it.
pub struct ObjectWriter {
    inner: WriteMultipart,
    key: String,
    written: u64,
    /// Given back to the budget when the writer goes.
    _reservation: Option<Reservation>,
}

/// A writer's share of the write budget.
struct Reservation {
    _permit: OwnedSemaphorePermit,
    bytes: f64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        metrics::gauge!("storage_write_reserved_bytes").decrement(self.bytes);
    }
}

impl ObjectWriter {
    /// Append bytes, waiting while too many parts are in flight (backpressure).
    pub async fn write(&mut self, bytes: Bytes) -> Result<(), StorageError> {
        self.inner
            .wait_for_capacity(PARTS_IN_FLIGHT)
            .await
            .map_err(|e| StorageError::from_store(&self.key, e))?;
        self.written += bytes.len() as u64;
        self.inner.put(bytes);
        Ok(())
    }

    /// Complete the upload; returns the object's size.
    pub async fn finish(self) -> Result<u64, StorageError> {
        let Self {
            inner,
            key,
            written,
            _reservation,
        } = self;
        inner
            .finish()
            .await
            .map_err(|e| StorageError::from_store(&key, e))?;
        Ok(written)
    }

    /// Discard the upload. Failure to abort is logged, not returned: the caller is
    /// already on an error path.
    pub async fn abort(self) {
        if let Err(e) = self.inner.abort().await {
            tracing::warn!(key = %self.key, error = %e, "aborting a multipart upload failed");
        }
    }
}
