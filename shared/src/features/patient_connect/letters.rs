//! The distribution list: letters Patient Connect made for posting (Mail, and ePost letters
//! for the record), each with its PDF; staff print them and mark them posted.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use super::programs::parse_id;
use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::letter::{Letter, LetterStatus};
use crate::features::audit_trail::{self, Change};
use crate::http::Problem;
use crate::http::auth::authorize;
use crate::http::request::{clinic_id, page_query};
use crate::http::request::{path_param, query_param};
use crate::http::response::{json, pdf};
use crate::store::{Condition, Item, Query, StoreError, Write, keys};

/// A letter on the list.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct LetterView {
    /// The letter.
    pub letter: Letter,
    /// Version, bumped when it is marked posted.
    pub version: u64,
    /// Where staff download its PDF.
    pub pdf_path: String,
}

/// The distribution list, one page at a time.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct DistributionList {
    /// Letters to post oldest first; with `status=all`, every letter by id.
    pub items: Vec<LetterView>,
    /// Pass as `cursor` for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

fn letter_id(request: &Request) -> Result<String, Problem> {
    path_param(request, "letterId", |raw| parse_id("letterId", raw))
}

fn view(clinic: &str, letter: Letter, version: u64) -> LetterView {
    let pdf_path = format!("/admin/clinics/{clinic}/letters/{}", letter.id);
    LetterView { letter, version, pdf_path }
}

/// `GET /admin/clinics/{clinicId}/distribution-list?status=to_post|all[&limit=&cursor=]`: by
/// default, what is still to post (Mail letters not yet posted), oldest first, from their own
/// index; with `status=all`, every letter by id. One query per page either way.
#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    authorize(request, &clinic, Permission::DiaryRead)?;
    let query = match query_param(request, "status") {
        None | Some("to_post") => Query::prefix(keys::letters_to_post(&clinic), "").on_gsi1(),
        Some("all") => Query::prefix(keys::letters_partition(&clinic), ""),
        Some(_) => return Err(Problem::malformed("status", "must be to_post or all")),
    };
    let page = state.store.query(&page_query(request, query)?).await?;
    let items = page
        .items
        .iter()
        .map(|item| Ok(view(clinic.as_str(), item.record()?, item.version)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let next_cursor = page.next.map(|cursor| cursor.as_str().to_owned());
    json(StatusCode::OK, &DistributionList { items, next_cursor })
}

/// `POST /admin/clinics/{clinicId}/distribution-list/index[?cursor=&limit=]`: puts one page of
/// letters (by id) that wait to be posted but were written before the distribution list had its
/// own index onto it. Idempotent, each write conditional on the letter's version (a letter
/// marked posted meanwhile stays off); call again with `next_cursor` until it is absent.
#[tracing::instrument(skip_all)]
pub async fn rebuild_index(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    authorize(request, &clinic, Permission::DiaryWrite)?;
    let page = state.store.query(&page_query(request, Query::prefix(keys::letters_partition(&clinic), ""))?).await?;
    let mut indexed = 0;
    for item in &page.items {
        let letter: Letter = item.record()?;
        if letter.status != LetterStatus::ToPost || item.gsi1.is_some() {
            continue;
        }
        let listed = item.clone().with_gsi1(keys::letter_to_post(&clinic, letter.created_at, &letter.id));
        match state.store.write(Write::put(listed, Condition::VersionIs(item.version))).await {
            Ok(_) => indexed += 1,
            Err(StoreError::ConditionFailed { .. }) => {} // changed meanwhile: it was written indexed
            Err(error) => return Err(error.into()),
        }
    }
    let next_cursor = page.next.map(|cursor| cursor.as_str().to_owned());
    json(StatusCode::OK, &crate::features::patients::IndexedPage { indexed, next_cursor })
}

/// `POST /admin/clinics/{clinicId}/distribution-list/{letterId}/posted`
#[tracing::instrument(skip_all)]
pub async fn mark_posted(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let id = letter_id(request)?;
    let actor = authorize(request, &clinic, Permission::DiaryWrite)?;
    let item =
        state.store.get(&keys::letter(&clinic, &id)).await?.ok_or_else(|| Problem::not_found("no such letter"))?;
    let letter: Letter = item.record()?;
    if letter.status != LetterStatus::ToPost {
        return Err(Problem::conflict("only a letter waiting to be posted can be marked posted"));
    }
    let now = state.clock.now();
    let posted = Letter { status: LetterStatus::Posted { by: actor.subject.clone(), at: now }, ..letter };
    let writes = vec![
        Write::put(
            Item::from_record(keys::letter(&clinic, &id), &posted)?.with_version(item.version + 1),
            Condition::VersionIs(item.version),
        ),
        audit_trail::record(
            &clinic,
            Change {
                actor: &actor.subject,
                action: "letter.posted",
                entity: format!("letter/{id}"),
                before_version: Some(item.version),
                after_version: Some(item.version + 1),
            },
            now,
        )?,
    ];
    match state.store.transact(writes).await {
        Err(StoreError::ConditionFailed { .. }) => {
            return Err(Problem::conflict("the letter changed while this request ran; reload and try again"));
        }
        other => other?,
    }
    json(StatusCode::OK, &view(clinic.as_str(), posted, item.version + 1))
}

/// `GET /admin/clinics/{clinicId}/letters/{letterId}`: the letter's PDF.
#[tracing::instrument(skip_all)]
pub async fn download(state: &AppState, request: &Request) -> Result<Response<Body>, Problem> {
    let clinic = clinic_id(request)?;
    let id = letter_id(request)?;
    authorize(request, &clinic, Permission::DiaryRead)?;
    let item =
        state.store.get(&keys::letter(&clinic, &id)).await?.ok_or_else(|| Problem::not_found("no such letter"))?;
    let letter: Letter = item.record()?;
    let bytes = state.letters.read(&letter.file_key).await.map_err(|error| {
        tracing::error!(%error, "letter file unavailable");
        Problem::unavailable()
    })?;
    let bytes = bytes.ok_or_else(|| Problem::not_found("the letter's file is missing"))?;
    pdf(&format!("{id}.pdf"), bytes)
}
