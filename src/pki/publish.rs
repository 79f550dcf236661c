//! Publishing CRLs: on every status change, and before the current ones expire.

use super::authority::Authority;
use super::crl::{self, CrlParams};
use super::{Pki, PkiError};
use crate::store::{CrlKind, CrlRecord};

const HOUR: i64 = 3600;

impl Pki {
    fn authority(&self, id: &str) -> Result<(&Authority, u32, u32), PkiError> {
        let h = &self.declarations.hierarchy;
        if id == self.root.id {
            Ok((
                &self.root,
                h.root.crl_period_hours,
                h.root.delta_crl_period_hours,
            ))
        } else if id == self.issuing.id {
            Ok((
                &self.issuing,
                h.issuing.crl_period_hours,
                h.issuing.delta_crl_period_hours,
            ))
        } else {
            Err(PkiError::NotFound(format!("no CA with id {id:?}")))
        }
    }

    /// Cuts and stores a new full CRL for `ca_id`, then a new delta CRL.
    pub async fn publish_crls(&self, ca_id: &str, now: i64) -> Result<(), PkiError> {
        let (ca, period, delta_period) = self.authority(ca_id)?;
        let freshest = (delta_period > 0).then(|| self.urls.delta_crl(&ca.id));
        let next_update = now + i64::from(period) * HOUR;
        self.cut(ca, None, now, next_update, freshest.as_deref())
            .await?;
        if delta_period > 0 {
            self.publish_delta(ca, delta_period, now).await?;
        }
        Ok(())
    }

    async fn publish_delta(&self, ca: &Authority, period: u32, now: i64) -> Result<(), PkiError> {
        let valid_until = now + i64::from(period) * HOUR;
        let base = self
            .store
            .delta_base(&ca.id, valid_until)
            .await?
            .ok_or_else(|| {
                PkiError::Config(format!("{} has no full CRL to base a delta on", ca.id))
            })?;
        // A delta CRL must not outlive its base (RFC 5280 §5.2.4).
        let next_update = valid_until.min(base.next_update);
        self.cut(ca, Some(&base), now, next_update, None).await
    }

    /// Takes a snapshot, signs the CRL and stores it: a full CRL when `base` is None, else a
    /// delta CRL listing the changes since `base` was cut.
    async fn cut(
        &self,
        ca: &Authority,
        base: Option<&CrlRecord>,
        now: i64,
        next_update: i64,
        freshest_url: Option<&str>,
    ) -> Result<(), PkiError> {
        let snapshot = self
            .store
            .crl_snapshot(&ca.id, base.map(|b| b.as_of_seq))
            .await?;
        let der = crl::build(
            ca,
            &CrlParams {
                number: snapshot.number,
                this_update: now,
                next_update,
                delta_base: base.map(|b| b.number),
                freshest_url,
            },
            &snapshot.entries,
        )?;
        self.store
            .save_crl(&CrlRecord {
                issuer_id: ca.id.clone(),
                number: snapshot.number,
                kind: if base.is_some() {
                    CrlKind::Delta
                } else {
                    CrlKind::Full
                },
                base_number: base.map(|b| b.number),
                as_of_seq: snapshot.as_of_seq,
                this_update: now,
                next_update,
                der,
            })
            .await?;
        Ok(())
    }

    pub(super) async fn publish_all_crls(&self, now: i64) -> Result<(), PkiError> {
        for id in [self.root.id.clone(), self.issuing.id.clone()] {
            self.publish_crls(&id, now).await?;
        }
        Ok(())
    }

    /// Republishes whatever is missing or due: a CRL whose nextUpdate is less than a quarter of
    /// its period away (or a delta due likewise). Run periodically by the service.
    pub async fn refresh_crls(&self, now: i64) -> Result<usize, PkiError> {
        let mut published = 0;
        for id in [self.root.id.clone(), self.issuing.id.clone()] {
            let (ca, period, delta_period) = self.authority(&id)?;
            let due = |rec: &Option<CrlRecord>, hours: u32| match rec {
                None => true,
                Some(r) => r.next_update - now <= i64::from(hours) * HOUR / 4,
            };
            let full = self.store.latest_crl(&ca.id, CrlKind::Full).await?;
            if due(&full, period) {
                self.publish_crls(&id, now).await?;
                published += 1;
                continue;
            }
            if delta_period > 0 {
                let delta = self.store.latest_crl(&ca.id, CrlKind::Delta).await?;
                if due(&delta, delta_period) {
                    self.publish_delta(ca, delta_period, now).await?;
                    published += 1;
                }
            }
        }
        Ok(published)
    }

    /// The newest full or delta CRL of a CA (DER).
    pub async fn crl(&self, ca_id: &str, delta: bool) -> Result<Vec<u8>, PkiError> {
        self.authority(ca_id)?;
        let kind = if delta { CrlKind::Delta } else { CrlKind::Full };
        match self.store.latest_crl(ca_id, kind).await? {
            Some(rec) => Ok(rec.der),
            None => Err(PkiError::NotFound(format!(
                "CA {ca_id} publishes no {} CRL",
                if delta { "delta" } else { "full" }
            ))),
        }
    }
}
