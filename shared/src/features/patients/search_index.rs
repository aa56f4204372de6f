//! The staff search's index: one item per search term of a record's name (the beginnings of its
//! words, hashed so no name is in a key), written in the record's own transaction. A search reads
//! one term's partition and the records it names, never the clinic's whole list.

use sha2::Digest;

use crate::domain::clinic::ClinicId;
use crate::domain::patient::{PatientRecord, lookup_term, search_terms};
use crate::store::{Condition, Item, Key, Query, Store, StoreError, Write, keys};

/// References read per page of a term's partition.
const CANDIDATES_PER_PAGE: u32 = 200;
/// Pages of one term read at most (a very common name beginning with a very common search word).
const MAX_PAGES: usize = 10;

fn term_key(clinic: &ClinicId, term: &str, record: &PatientRecord) -> Key {
    let hash = hex::encode(sha2::Sha256::digest(term.as_bytes()));
    Key::new(keys::patients_by_term(clinic, &hash), record.reference.as_str())
}

/// The writes that index a new record.
pub fn index(clinic: &ClinicId, record: &PatientRecord) -> Result<Vec<Write>, StoreError> {
    search_terms(&record.details)
        .iter()
        .map(|term| {
            Ok(Write::put(
                Item::from_record(term_key(clinic, term, record), &serde_json::json!({}))?,
                Condition::Always,
            ))
        })
        .collect()
}

/// The writes that move a record's index from its old name to its new one (none when the name
/// is unchanged).
pub fn reindex(clinic: &ClinicId, before: &PatientRecord, after: &PatientRecord) -> Result<Vec<Write>, StoreError> {
    let (old, new) = (search_terms(&before.details), search_terms(&after.details));
    let mut writes: Vec<Write> = old
        .difference(&new)
        .map(|term| Write::Delete { key: term_key(clinic, term, before), condition: Condition::Always })
        .collect();
    for term in new.difference(&old) {
        writes.push(Write::put(
            Item::from_record(term_key(clinic, term, after), &serde_json::json!({}))?,
            Condition::Always,
        ));
    }
    Ok(writes)
}

/// The records whose name has every word of `search` as the beginning of one of its words and
/// that `keep` accepts, up to `wanted`: the longest word's term, a page of references at a time,
/// each page's records read concurrently.
pub async fn find(
    store: &dyn Store,
    clinic: &ClinicId,
    search: &str,
    wanted: usize,
    keep: impl Fn(&PatientRecord) -> bool,
) -> Result<Vec<PatientRecord>, StoreError> {
    let Some(term) = lookup_term(search) else { return Ok(Vec::new()) };
    let hash = hex::encode(sha2::Sha256::digest(term.as_bytes()));
    let mut query = Query::prefix(keys::patients_by_term(clinic, &hash), "").limit(CANDIDATES_PER_PAGE);
    let mut found = Vec::new();
    for _ in 0..MAX_PAGES {
        let listed = store.query(&query).await?;
        let records: Vec<Key> = listed.items.iter().map(|item| keys::patient(clinic, &item.key.sk)).collect();
        for item in futures_util::future::join_all(records.iter().map(|key| store.get(key))).await {
            if let Some(item) = item? {
                let record: PatientRecord = item.record()?;
                if record.matches_words(search) && keep(&record) {
                    found.push(record);
                }
            }
        }
        match listed.next {
            Some(next) if found.len() < wanted => query = query.after(Some(next)),
            _ => break,
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::patient::{PatientDetails, PatientProfile, PatientReference};

    fn record(first: &str, last: &str) -> PatientRecord {
        PatientRecord {
            reference: PatientReference::parse("reference", "MRN-1").unwrap(),
            details: PatientDetails {
                first_name: first.into(),
                last_name: last.into(),
                date_of_birth: "1980-01-02".parse().unwrap(),
                mobile: None,
                email: None,
            },
            profile: PatientProfile::default(),
        }
    }

    #[test]
    fn a_new_name_moves_only_the_terms_that_changed_and_no_key_holds_the_name() {
        let clinic = ClinicId::parse("demo").unwrap();
        let (before, after) = (record("Ada", "Smith"), record("Ada", "Smythe"));
        let writes = reindex(&clinic, &before, &after).unwrap();
        let (mut deleted, mut added) = (0, 0);
        for write in &writes {
            let key = match write {
                Write::Delete { key, .. } => {
                    deleted += 1;
                    key
                }
                Write::Put { item, .. } => {
                    added += 1;
                    &item.key
                }
                other => panic!("{other:?}"),
            };
            let key = key.pk.to_lowercase();
            assert!(!key.contains("smith") && !key.contains("smyth"), "a name in a key: {key}");
        }
        // smi, smit, smith go; smy, smyt, smyth, smythe come; ad, ada and sm stay.
        assert_eq!((deleted, added), (3, 4));
        assert!(search_terms(&after.details).contains("sm") && search_terms(&after.details).contains("ada"));
        assert!(reindex(&clinic, &before, &before).unwrap().is_empty());
    }
}
