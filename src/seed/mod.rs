//! `qifu seed`: a realistic, reproducible history to explore and to measure the statistics on.
//!
//! The same `--seed` gives the same history relative to the moment it runs. Tickets are spread
//! over the last year (the demo: the last month) and played through their lifecycle by the
//! app's own transition rules (`life`): routing, acceptance, resolution, reopens, confirmation
//! with a rating, auto-close after the configured days, cancellation, deadlines missed — with
//! their timeline events and comments (messages and site visits). Rows go in as multi-row
//! INSERTs in transactions of a few thousand tickets, which is what makes a million tickets a
//! matter of minutes.

mod life;
mod names;
mod rows;

use chrono::{Duration, NaiveDateTime};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use self::life::{Batch, World};
use self::names::{DEPARTMENTS, PLACES, TRADES, credit_code, id, person};
use self::rows::Rows;
use crate::config::TicketSettings;
use crate::domain::enterprise::{EnterpriseRole, EnterpriseStatus};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult, ProblemType};
use crate::stats::sql::Bind;
use crate::store::DbConn;
use crate::store::db::transaction;
use crate::store::users;

/// Every seeded account signs in with this password.
pub const PASSWORD: &str = "Qifu-Seed-2026";

#[derive(Debug, Clone)]
pub struct Plan {
    pub tickets: u64,
    pub enterprises: u64,
    pub departments: usize,
    pub officials_per_department: usize,
    pub days: i64,
    pub seed: u64,
    /// Demo logins live under their own domain, so a demo and a bulk seed can share a database.
    pub domain: &'static str,
    /// The settings the app runs with: auto-close days, warning share, escalation hours.
    pub rules: TicketSettings,
}

impl Plan {
    pub fn bulk(tickets: u64, enterprises: Option<u64>, seed: u64, rules: TicketSettings) -> Plan {
        Plan {
            tickets,
            enterprises: enterprises.unwrap_or((tickets / 100).clamp(20, 20_000)),
            departments: DEPARTMENTS.len(),
            officials_per_department: 4,
            days: 365,
            seed,
            domain: "seed.qifu.example",
            rules,
        }
    }

    pub fn demo(rules: TicketSettings) -> Plan {
        Plan {
            tickets: 30,
            enterprises: 4,
            departments: 3,
            officials_per_department: 2,
            days: 30,
            seed: 7,
            domain: "demo.qifu.example",
            rules,
        }
    }

    fn is_demo(&self) -> bool {
        self.domain.starts_with("demo")
    }
}

#[derive(Debug)]
pub struct Report {
    pub tickets: u64,
    /// (role, email, name) of every seeded account.
    pub logins: Vec<(String, String, String)>,
}

pub struct Category {
    id: String,
    department: usize,
    department_id: String,
    name: &'static str,
    sla_hours: i32,
}

pub struct Enterprise {
    id: String,
    user_id: String,
}

/// Tickets per transaction: large enough to amortise the commit, small enough to keep
/// memory flat.
const BATCH: u64 = 2_000;

pub fn run(
    conn: &mut DbConn,
    plan: &Plan,
    now: NaiveDateTime,
    progress: &ProgressBar,
) -> AppResult<Report> {
    let admin_email = format!("admin@{}", plan.domain);
    if users::find_by_email(conn, &admin_email)?.is_some() {
        return Err(AppError::new(
            ProblemType::AlreadySeeded,
            format!("{admin_email} exists: this database was seeded already"),
        ));
    }
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let start = now - Duration::days(plan.days);
    let mut people = People {
        rows: Rows::new("users", rows::USERS),
        logins: Vec::new(),
        hash: crate::auth::hash_password(PASSWORD)?,
        start,
    };
    let (categories, officials, enterprises) = transaction::<_, AppError, _>(conn, |conn| {
        people.add(&mut rng, Role::Admin, admin_email.clone(), None, None);
        let (categories, officials) = departments(conn, &mut rng, plan, &mut people)?;
        let enterprises = enterprises(conn, &mut rng, plan, &mut people)?;
        people.rows.flush(conn)?;
        Ok((categories, officials, enterprises))
    })?;

    let world = World {
        categories: &categories,
        officials: &officials,
        enterprises: &enterprises,
        start,
        now,
        prefix: if plan.is_demo() { "DM" } else { "SD" },
        rules: &plan.rules,
    };
    progress.set_length(plan.tickets);
    let mut n = 0;
    while n < plan.tickets {
        let batch_end = (n + BATCH).min(plan.tickets);
        transaction::<_, AppError, _>(conn, |conn| {
            let mut batch = Batch::new();
            for k in n..batch_end {
                life::ticket(&mut rng, &world, k, &mut batch)?;
            }
            batch.tickets.flush(conn)?;
            batch.events.flush(conn)?;
            batch.comments.flush(conn)
        })?;
        progress.inc(batch_end - n);
        n = batch_end;
    }
    progress.finish();
    Ok(Report {
        tickets: plan.tickets,
        logins: people.logins,
    })
}

/// The seeded accounts, all with one password hash (argon2 once, not once per account).
struct People {
    rows: Rows,
    logins: Vec<(String, String, String)>,
    hash: String,
    start: NaiveDateTime,
}

impl People {
    fn add(
        &mut self,
        rng: &mut StdRng,
        role: Role,
        email: String,
        enterprise: Option<&str>,
        department: Option<&str>,
    ) -> String {
        let user_id = id(rng);
        let name = person(rng);
        let owner = (role == Role::Enterprise).then(|| EnterpriseRole::Owner.as_str().to_owned());
        self.rows.add(vec![
            Bind::Text(user_id.clone()),
            Bind::Text(email.clone()),
            Bind::Text(name.clone()),
            Bind::Text(role.as_str().to_owned()),
            Bind::OptText(enterprise.map(str::to_owned)),
            Bind::OptText(department.map(str::to_owned)),
            Bind::Text(self.hash.clone()),
            Bind::Bool(true),
            Bind::Text("zh-CN".to_owned()),
            Bind::Ts(self.start),
            Bind::Ts(self.start),
            Bind::Bool(true),
            Bind::OptText(owner),
        ]);
        self.logins.push((role.as_str().to_owned(), email, name));
        user_id
    }
}

/// The plan's departments with their categories and officials.
fn departments(
    conn: &mut DbConn,
    rng: &mut StdRng,
    plan: &Plan,
    people: &mut People,
) -> AppResult<(Vec<Category>, Vec<Vec<String>>)> {
    let start = people.start;
    let mut department_rows = Rows::new("departments", rows::DEPARTMENTS);
    let mut category_rows = Rows::new("categories", rows::CATEGORIES);
    let mut categories = Vec::new();
    let mut officials = Vec::new();
    for (d, (name, matters)) in DEPARTMENTS.iter().take(plan.departments).enumerate() {
        let department_id = id(rng);
        let shown = if plan.is_demo() {
            (*name).to_owned()
        } else {
            format!("{name}（{}）", plan.domain)
        };
        department_rows.add(vec![
            Bind::Text(department_id.clone()),
            Bind::Text(shown),
            Bind::OptText(None),
            Bind::Bool(true),
            Bind::Ts(start),
            Bind::Ts(start),
        ]);
        for (matter, sla_hours) in matters {
            let category = Category {
                id: id(rng),
                department: d,
                department_id: department_id.clone(),
                name: matter,
                sla_hours: *sla_hours,
            };
            category_rows.add(vec![
                Bind::Text(category.id.clone()),
                Bind::Text((*matter).to_owned()),
                Bind::OptText(None),
                Bind::Text(department_id.clone()),
                Bind::Int(i64::from(*sla_hours)),
                Bind::Bool(true),
                Bind::Ts(start),
                Bind::Ts(start),
            ]);
            categories.push(category);
        }
        officials.push(
            (0..plan.officials_per_department)
                .map(|k| {
                    let email = format!("official{}-{}@{}", d + 1, k + 1, plan.domain);
                    people.add(rng, Role::Official, email, None, Some(&department_id))
                })
                .collect(),
        );
    }
    department_rows.flush(conn)?;
    category_rows.flush(conn)?;
    Ok((categories, officials))
}

/// The plan's enterprises, each with one user who owns its account.
fn enterprises(
    conn: &mut DbConn,
    rng: &mut StdRng,
    plan: &Plan,
    people: &mut People,
) -> AppResult<Vec<Enterprise>> {
    let mut enterprise_rows = Rows::new("enterprises", rows::ENTERPRISES);
    // Codes of a demo and a bulk seed must not collide in one database.
    let code_base = if plan.is_demo() { 900_000_000 } else { 0 };
    let mut enterprises = Vec::new();
    for n in 0..plan.enterprises {
        let enterprise_id = id(rng);
        let (trade, industry) = TRADES[rng.random_range(0..TRADES.len())];
        let place = PLACES[rng.random_range(0..PLACES.len())];
        enterprise_rows.add(vec![
            Bind::Text(enterprise_id.clone()),
            Bind::Text(format!("杭州{place}{}{trade}有限公司", person(rng))),
            Bind::Text(credit_code(code_base + n)?),
            Bind::OptText(Some(format!("杭州市{place}区{}号", n % 999 + 1))),
            Bind::OptText(Some(industry.to_owned())),
            Bind::OptText(Some(format!("0571{:08}", rng.random_range(0..100_000_000)))),
            Bind::Text(EnterpriseStatus::Active.as_str().to_owned()),
            Bind::Ts(people.start),
            Bind::Ts(people.start),
        ]);
        let email = format!("enterprise{}@{}", n + 1, plan.domain);
        let user_id = people.add(rng, Role::Enterprise, email, Some(&enterprise_id), None);
        enterprises.push(Enterprise {
            id: enterprise_id,
            user_id,
        });
    }
    enterprise_rows.flush(conn)?;
    Ok(enterprises)
}

pub fn progress_bar(visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} tickets ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
