//! What every use case is given.

use steward_core::syslog::{Actor, ClientInfo};
use steward_core::timefmt::now_millis;
use steward_store::Store;

use crate::governance::EventBus;

/// Who acts, when, and through which store. Cheap to build per call.
#[derive(Clone)]
pub struct Ctx<'a> {
    pub store: &'a Store,
    /// Epoch ms the change is made at (the server's injectable clock; tests set it).
    pub now: i64,
    /// Who the System Log and the domain events name as the actor.
    pub actor: Actor,
    /// Where the call came from (address, user agent, request id), for the System Log.
    pub client: ClientInfo,
    /// Where access-request events go once their transaction commits (in-process subscribers);
    /// `None` publishes them nowhere (start-up, the CLI).
    pub bus: Option<&'a EventBus>,
}

impl<'a> Ctx<'a> {
    /// Steward itself acting now (start-up, the CLI on the server's own store, the scheduler).
    pub fn system(store: &'a Store) -> Ctx<'a> {
        Ctx {
            store,
            now: now_millis(),
            actor: Actor::system(),
            client: ClientInfo::default(),
            bus: None,
        }
    }

    /// The same context, publishing access-request events on `bus`.
    pub fn with_bus(mut self, bus: &'a EventBus) -> Ctx<'a> {
        self.bus = Some(bus);
        self
    }

    /// The same context with another actor (the scheduler's doing inside a caller's request).
    pub fn acting_as(mut self, actor: Actor) -> Ctx<'a> {
        self.actor = actor;
        self
    }

    /// The same context at another time.
    pub fn at(mut self, now: i64) -> Ctx<'a> {
        self.now = now;
        self
    }

    /// A transaction whose recorded changes name this context's client and time.
    pub async fn begin(&self) -> steward_store::Result<steward_store::WriteTx> {
        let mut tx = self.store.begin().await?;
        tx.set_origin(self.client.clone(), self.now);
        Ok(tx)
    }
}
