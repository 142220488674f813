//! The retention task: every `check_interval_secs`, messages that have been
//! in a special-use mailbox (Trash, Junk by default) for longer than its
//! configured days are expunged. They are ordinary expunges: tombstones and
//! wake-ups, so sessions hear of them like of any other.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::context::ServerContext;
use crate::store::{Access, SpecialUse};

pub async fn run(ctx: Arc<ServerContext>, mut stop: watch::Receiver<bool>) {
    let retention = &ctx.config().retention;
    if !retention.enabled || retention.days.is_empty() {
        return;
    }
    let interval = Duration::from_secs(retention.check_interval_secs);
    loop {
        purge_once(&ctx).await;
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
    }
}

async fn purge_once(ctx: &Arc<ServerContext>) {
    let now = chrono::Utc::now().timestamp();
    for (name, days) in &ctx.config().retention.days {
        let Some(special_use) = SpecialUse::from_attribute(&format!("\\{name}")) else {
            continue;
        };
        let cutoff = now - i64::from(*days) * 86_400;
        let purged = ctx
            .store
            .run(Access::Write, move |store| {
                store.purge_older_than(special_use, cutoff)
            })
            .await;
        match purged {
            Ok(0) => {}
            Ok(count) => tracing::info!(mailbox = %name, count, days, "retention purge"),
            Err(e) => tracing::error!(mailbox = %name, error = %e, "retention purge failed"),
        }
    }
}
