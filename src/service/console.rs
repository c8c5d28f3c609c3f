//! Use cases only the web console has: cookie sign-ins, the filing form's catalogue and one's
//! own profile. Everything else the console does goes through the same use cases as the API.

use chrono::Duration;

use super::AppState;
use super::auth::{LoginRequest, Principal, authenticate, load_actor};
use super::validate::Checks;
use crate::auth::{random_token, sha256_hex};
use crate::domain::role::Role;
use crate::error::AppResult;
use crate::store::{departments, sessions, users};

/// A signed-in browser, as its cookie's session row and user say now.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    pub principal: Principal,
    /// The session (`sessions.id`), which sign-out ends.
    pub session_id: String,
    pub name: String,
    pub locale: String,
}

/// Signs in under the API's throttle; returns the cookie value (only its hash is stored).
#[tracing::instrument(skip_all, fields(ip = %ip))]
pub async fn sign_in(
    state: &AppState,
    req: LoginRequest,
    ip: String,
) -> AppResult<(String, ConsoleSession)> {
    let token = random_token();
    let hash = sha256_hex(&token);
    let now = state.clock.now();
    let expires = now + Duration::hours(state.settings.console.session_absolute_hours);
    let (user, session_id) = authenticate(state, req, ip, move |conn, user| {
        Ok(sessions::insert_web(conn, &user.id, &hash, expires, now)?)
    })
    .await?;
    let role = user.role;
    Ok((
        token,
        ConsoleSession {
            principal: Principal {
                user_id: user.id,
                role,
                session_id: session_id.clone(),
                issued_at: now.and_utc().timestamp(),
            },
            session_id,
            name: user.name,
            locale: user.locale,
        },
    ))
}

/// The live session behind a cookie, or None (unknown, signed out, revoked, idle or too old).
/// The idle clock is moved at most once a minute, so reading pages rarely writes.
#[tracing::instrument(skip_all)]
pub async fn resolve(state: &AppState, token: &str) -> AppResult<Option<ConsoleSession>> {
    let hash = sha256_hex(token);
    let now = state.clock.now();
    let idle_since = now - Duration::minutes(state.settings.console.session_idle_minutes);
    let found = state
        .db
        .read(move |conn| Ok(sessions::find_web(conn, &hash, now, idle_since)?))
        .await?;
    let Some((row, role, name, locale)) = found else {
        return Ok(None);
    };
    let Ok(role) = role.parse::<Role>() else {
        return Ok(None);
    };
    if row
        .last_seen_at
        .is_none_or(|seen| now - seen > Duration::minutes(1))
    {
        let id = row.id.clone();
        state
            .db
            .write(move |conn| Ok(sessions::touch_web(conn, &id, now)?))
            .await?;
    }
    Ok(Some(ConsoleSession {
        principal: Principal {
            user_id: row.user_id,
            role,
            session_id: row.family_id.clone(),
            issued_at: row.created_at.and_utc().timestamp(),
        },
        session_id: row.family_id,
        name,
        locale,
    }))
}

#[tracing::instrument(skip_all)]
pub async fn sign_out(state: &AppState, session_id: String) -> AppResult<()> {
    let now = state.clock.now();
    state
        .db
        .write(move |conn| Ok(sessions::revoke_family(conn, &session_id, now)?))
        .await
}

#[derive(Debug, Clone)]
pub struct CategoryOption {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub sla_hours: i32,
    /// 受理之日起 N 个工作日, when the category counts working days.
    pub sla_working_days: Option<i32>,
}

#[derive(Debug, Clone)]
pub struct DepartmentGroup {
    pub id: String,
    pub name: String,
    pub categories: Vec<CategoryOption>,
}

/// Every active category under its department's name, departments in creation order: what
/// the filing form offers and what a ticket's page names.
#[tracing::instrument(skip_all)]
pub async fn catalogue(state: &AppState) -> AppResult<Vec<DepartmentGroup>> {
    state
        .db
        .read(move |conn| {
            let mut groups: Vec<DepartmentGroup> = Vec::new();
            let mut after = None;
            loop {
                let rows = departments::list_categories(conn, false, None, after.clone(), 100)?;
                let Some(last) = rows.last() else { break };
                after = Some((last.created_at, last.id.clone()));
                let full = rows.len() == 100;
                for c in rows {
                    let position = match groups.iter().position(|g| g.id == c.department_id) {
                        Some(i) => i,
                        None => {
                            let Some(d) = departments::find_department(conn, &c.department_id)?
                                .filter(|d| d.active)
                            else {
                                continue;
                            };
                            groups.push(DepartmentGroup {
                                id: d.id,
                                name: d.name,
                                categories: Vec::new(),
                            });
                            groups.len() - 1
                        }
                    };
                    groups[position].categories.push(CategoryOption {
                        id: c.id,
                        name: c.name,
                        description: c.description,
                        sla_hours: c.sla_hours,
                        sla_working_days: c.sla_working_days,
                    });
                }
                if !full {
                    break;
                }
            }
            Ok(groups)
        })
        .await
}

/// One's own name and language (the language of the console and of one's mail).
#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn update_profile(
    state: &AppState,
    principal: Principal,
    name: &str,
    locale: &str,
) -> AppResult<()> {
    let mut checks = Checks::new();
    let name = checks.text("name", name, 1, 100);
    if !crate::mail::LOCALES.contains(&locale) {
        checks.fail("locale", "must be zh-CN or en");
    }
    checks.done()?;
    let locale = locale.to_owned();
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            let actor = load_actor(conn, &principal)?;
            Ok(users::set_profile(conn, &actor.id, &name, &locale, now)?)
        })
        .await
}
