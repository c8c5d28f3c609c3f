//! `qifu seed`: a realistic, reproducible history to explore and to measure the statistics on.
//!
//! The same `--seed` gives the same history relative to the moment it runs. Tickets are spread
//! over the last year (the demo: the last month) and played through their lifecycle —
//! routing, acceptance, resolution, reopens, confirmation with a rating, auto-close after
//! 7 days, cancellation, deadlines missed — with their timeline events and comments
//! (messages and site visits). Rows go in as multi-row INSERTs in transactions of a few
//! thousand tickets, which is what makes a million tickets a matter of minutes.

use chrono::{Duration, NaiveDateTime};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::sql::{Bind, Sql};
use crate::domain::credit_code::CreditCode;
use crate::domain::sla;
use crate::domain::ticket::Priority;
use crate::error::{AppError, AppResult, ProblemType};
use crate::store::DbConn;
use crate::store::db::transaction;
use crate::store::tickets::search_text;
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
}

impl Plan {
    pub fn bulk(tickets: u64, enterprises: Option<u64>, seed: u64) -> Plan {
        Plan {
            tickets,
            enterprises: enterprises.unwrap_or((tickets / 100).clamp(20, 20_000)),
            departments: DEPARTMENTS.len(),
            officials_per_department: 4,
            days: 365,
            seed,
            domain: "seed.qifu.example",
        }
    }

    pub fn demo() -> Plan {
        Plan {
            tickets: 30,
            enterprises: 4,
            departments: 3,
            officials_per_department: 2,
            days: 30,
            seed: 7,
            domain: "demo.qifu.example",
        }
    }
}

#[derive(Debug)]
pub struct Report {
    pub tickets: u64,
    /// (role, email, name) of every seeded account.
    pub logins: Vec<(String, String, String)>,
}

const DEPARTMENTS: [(&str, [(&str, i32); 3]); 8] = [
    (
        "税务服务中心",
        [("发票申领", 24), ("税收优惠咨询", 72), ("出口退税", 120)],
    ),
    (
        "市场监管局",
        [
            ("营业执照变更", 48),
            ("食品经营许可", 120),
            ("质量投诉", 72),
        ],
    ),
    (
        "人力资源和社会保障局",
        [("社保登记", 48), ("人才引进", 168), ("用工纠纷", 72)],
    ),
    (
        "不动产登记中心",
        [("产权登记", 120), ("抵押登记", 72), ("资料查询", 24)],
    ),
    (
        "生态环境局",
        [("环评审批", 240), ("排污许可", 168), ("环境投诉", 48)],
    ),
    (
        "住房和城乡建设局",
        [("施工许可", 168), ("竣工验收", 120), ("物业纠纷", 72)],
    ),
    (
        "商务局",
        [("外资备案", 72), ("展会支持", 120), ("进出口资质", 96)],
    ),
    (
        "科技局",
        [
            ("高新技术企业认定", 240),
            ("科技项目申报", 168),
            ("知识产权", 96),
        ],
    ),
];

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
];
const GIVEN: [&str; 10] = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰"];
const PLACES: [&str; 8] = [
    "西湖", "滨江", "钱塘", "余杭", "萧山", "临平", "上城", "拱墅",
];
const TRADES: [(&str, &str); 6] = [
    ("科技", "软件和信息技术服务业"),
    ("制造", "通用设备制造业"),
    ("贸易", "批发业"),
    ("餐饮", "餐饮业"),
    ("建筑", "房屋建筑业"),
    ("生物医药", "医药制造业"),
];
const ASKS: [&str; 6] = [
    "办理进度咨询",
    "材料补正问题",
    "系统无法提交",
    "政策适用咨询",
    "现场核查预约",
    "办理时限过长",
];

struct Category {
    id: String,
    department: usize,
    name: &'static str,
    sla_hours: i32,
}

struct Enterprise {
    id: String,
    user_id: String,
}

fn id(rng: &mut StdRng) -> String {
    format!("{:032x}", rng.random::<u128>())
}

/// An exponentially distributed duration with this mean: most work is quick, some drags on.
fn exp_hours(rng: &mut StdRng, mean_hours: f64) -> Duration {
    let u: f64 = rng.random();
    Duration::seconds((-(1.0 - u).ln() * mean_hours * 3600.0) as i64 + 60)
}

fn person(rng: &mut StdRng) -> String {
    format!(
        "{}{}",
        SURNAMES[rng.random_range(0..SURNAMES.len())],
        GIVEN[rng.random_range(0..GIVEN.len())]
    )
}

/// A valid unified social credit code, unique per `n`: the organisation code is `n` in the
/// standard's alphabet, and the check character is computed as GB 32100-2015 specifies.
fn credit_code(n: u64) -> AppResult<String> {
    const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut code = *b"91330100000000000";
    let mut rest = n;
    for slot in code[8..].iter_mut().rev() {
        *slot = ALPHABET[(rest % 31) as usize];
        rest /= 31;
    }
    let first17 = String::from_utf8_lossy(&code).into_owned();
    CreditCode::complete(&first17)
        .map(CreditCode::into_inner)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("generated credit code: {e}")))
}

/// Rows of one table, inserted with as many rows per statement as the bind limits allow.
struct Rows {
    table: &'static str,
    columns: &'static [&'static str],
    rows: Vec<Vec<Bind>>,
}

impl Rows {
    fn new(table: &'static str, columns: &'static [&'static str]) -> Rows {
        Rows {
            table,
            columns,
            rows: Vec::new(),
        }
    }

    fn add(&mut self, row: Vec<Bind>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    /// SQLite allows 32,766 bound values per statement, PostgreSQL 65,535.
    fn flush(&mut self, conn: &mut DbConn) -> AppResult<()> {
        let per_statement = 30_000 / self.columns.len();
        let mut rows = std::mem::take(&mut self.rows).into_iter().peekable();
        while rows.peek().is_some() {
            let mut sql = Sql::new(conn);
            sql.push(&format!(
                "INSERT INTO {} ({}) VALUES ",
                self.table,
                self.columns.join(", ")
            ));
            for (i, row) in rows.by_ref().take(per_statement).enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                for (j, value) in row.into_iter().enumerate() {
                    if j > 0 {
                        sql.push(", ");
                    }
                    sql.bind(value);
                }
                sql.push(")");
            }
            sql.execute(conn)?;
        }
        Ok(())
    }
}

const TICKET_COLUMNS: &[&str] = &[
    "id",
    "reference",
    "title",
    "description",
    "search_text",
    "category_id",
    "department_id",
    "assignee_id",
    "enterprise_id",
    "created_by",
    "priority",
    "status",
    "due_at",
    "overdue_at",
    "warn_at",
    "warned_for",
    "escalated_for",
    "created_at",
    "updated_at",
    "accepted_at",
    "resolved_at",
    "closed_at",
    "cancelled_at",
    "resolution",
    "rating",
    "feedback",
    "auto_closed",
    "reopen_count",
    "version",
];
const EVENT_COLUMNS: &[&str] = &[
    "id",
    "ticket_id",
    "kind",
    "actor_id",
    "from_status",
    "to_status",
    "note",
    "internal",
    "created_at",
];
const COMMENT_COLUMNS: &[&str] = &["id", "ticket_id", "author_id", "kind", "body", "created_at"];
const USER_COLUMNS: &[&str] = &[
    "id",
    "email",
    "name",
    "role",
    "enterprise_id",
    "department_id",
    "password_hash",
    "active",
    "locale",
    "created_at",
    "updated_at",
    "email_verified",
    "enterprise_role",
];

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
    let hash = crate::auth::hash_password(PASSWORD)?;
    let start = now - Duration::days(plan.days);
    let mut logins = Vec::new();

    let (categories, officials, enterprises) = transaction(conn, |conn| {
        let mut users_rows = Rows::new("users", USER_COLUMNS);
        let mut user = |rng: &mut StdRng,
                        logins: &mut Vec<(String, String, String)>,
                        role: &str,
                        email: String,
                        enterprise: Option<&str>,
                        department: Option<&str>| {
            let user_id = id(rng);
            let name = person(rng);
            users_rows.add(vec![
                Bind::Text(user_id.clone()),
                Bind::Text(email.clone()),
                Bind::Text(name.clone()),
                Bind::Text(role.to_owned()),
                Bind::OptText(enterprise.map(str::to_owned)),
                Bind::OptText(department.map(str::to_owned)),
                Bind::Text(hash.clone()),
                Bind::Bool(true),
                Bind::Text("zh-CN".to_owned()),
                Bind::Ts(start),
                Bind::Ts(start),
                Bind::Bool(true),
                Bind::OptText((role == "enterprise").then(|| "owner".to_owned())),
            ]);
            logins.push((role.to_owned(), email, name));
            user_id
        };
        user(
            &mut rng,
            &mut logins,
            "admin",
            admin_email.clone(),
            None,
            None,
        );

        let mut departments = Rows::new(
            "departments",
            &[
                "id",
                "name",
                "description",
                "active",
                "created_at",
                "updated_at",
            ],
        );
        let mut category_rows = Rows::new(
            "categories",
            &[
                "id",
                "name",
                "description",
                "department_id",
                "sla_hours",
                "active",
                "created_at",
                "updated_at",
            ],
        );
        let mut categories = Vec::new();
        let mut officials: Vec<Vec<String>> = Vec::new();
        for (d, (name, cats)) in DEPARTMENTS.iter().take(plan.departments).enumerate() {
            let department_id = id(&mut rng);
            departments.add(vec![
                Bind::Text(department_id.clone()),
                Bind::Text(if plan.domain.starts_with("demo") {
                    (*name).to_owned()
                } else {
                    format!("{name}（{}）", plan.domain)
                }),
                Bind::OptText(None),
                Bind::Bool(true),
                Bind::Ts(start),
                Bind::Ts(start),
            ]);
            for (cat_name, sla_hours) in cats {
                let category = Category {
                    id: id(&mut rng),
                    department: d,
                    name: cat_name,
                    sla_hours: *sla_hours,
                };
                category_rows.add(vec![
                    Bind::Text(category.id.clone()),
                    Bind::Text((*cat_name).to_owned()),
                    Bind::OptText(None),
                    Bind::Text(department_id.clone()),
                    Bind::Int(i64::from(*sla_hours)),
                    Bind::Bool(true),
                    Bind::Ts(start),
                    Bind::Ts(start),
                ]);
                categories.push((category, department_id.clone()));
            }
            officials.push(
                (0..plan.officials_per_department)
                    .map(|k| {
                        let email = format!("official{}-{}@{}", d + 1, k + 1, plan.domain);
                        user(
                            &mut rng,
                            &mut logins,
                            "official",
                            email,
                            None,
                            Some(&department_id),
                        )
                    })
                    .collect(),
            );
        }
        departments.flush(conn)?;
        category_rows.flush(conn)?;

        let mut enterprise_rows = Rows::new(
            "enterprises",
            &[
                "id",
                "name",
                "credit_code",
                "address",
                "industry",
                "contact_phone",
                "status",
                "created_at",
                "updated_at",
            ],
        );
        // Codes of a demo and a bulk seed must not collide in one database.
        let code_base = if plan.domain.starts_with("demo") {
            900_000_000
        } else {
            0
        };
        let mut enterprises = Vec::new();
        for n in 0..plan.enterprises {
            let enterprise_id = id(&mut rng);
            let (trade, industry) = TRADES[rng.random_range(0..TRADES.len())];
            let place = PLACES[rng.random_range(0..PLACES.len())];
            enterprise_rows.add(vec![
                Bind::Text(enterprise_id.clone()),
                Bind::Text(format!("杭州{place}{}{trade}有限公司", person(&mut rng))),
                Bind::Text(credit_code(code_base + n)?),
                Bind::OptText(Some(format!("杭州市{place}区{}号", n % 999 + 1))),
                Bind::OptText(Some(industry.to_owned())),
                Bind::OptText(Some(format!("0571{:08}", rng.random_range(0..100_000_000)))),
                Bind::Text("active".to_owned()),
                Bind::Ts(start),
                Bind::Ts(start),
            ]);
            let email = format!("enterprise{}@{}", n + 1, plan.domain);
            let user_id = user(
                &mut rng,
                &mut logins,
                "enterprise",
                email,
                Some(&enterprise_id),
                None,
            );
            enterprises.push(Enterprise {
                id: enterprise_id,
                user_id,
            });
        }
        enterprise_rows.flush(conn)?;
        users_rows.flush(conn)?;
        Ok((categories, officials, enterprises))
    })?;

    progress.set_length(plan.tickets);
    let mut n = 0;
    while n < plan.tickets {
        let batch_end = (n + BATCH).min(plan.tickets);
        transaction(conn, |conn| {
            let mut tickets = Rows::new("tickets", TICKET_COLUMNS);
            let mut events = Rows::new("ticket_events", EVENT_COLUMNS);
            let mut comments = Rows::new("comments", COMMENT_COLUMNS);
            for k in n..batch_end {
                let world = World {
                    categories: &categories,
                    officials: &officials,
                    enterprises: &enterprises,
                    start,
                    now,
                    prefix: if plan.domain.starts_with("demo") {
                        "DM"
                    } else {
                        "SD"
                    },
                };
                ticket(
                    &mut rng,
                    &world,
                    k,
                    &mut tickets,
                    &mut events,
                    &mut comments,
                );
            }
            tickets.flush(conn)?;
            events.flush(conn)?;
            comments.flush(conn)
        })?;
        progress.inc(batch_end - n);
        n = batch_end;
    }
    progress.finish();
    Ok(Report {
        tickets: plan.tickets,
        logins,
    })
}

struct World<'a> {
    categories: &'a [(Category, String)],
    officials: &'a [Vec<String>],
    enterprises: &'a [Enterprise],
    start: NaiveDateTime,
    now: NaiveDateTime,
    prefix: &'static str,
}

/// One ticket played through its life up to `now`, with its events and comments.
fn ticket(
    rng: &mut StdRng,
    w: &World,
    n: u64,
    tickets: &mut Rows,
    events: &mut Rows,
    comments: &mut Rows,
) {
    let ticket_id = id(rng);
    let (category, department_id) = &w.categories[rng.random_range(0..w.categories.len())];
    let enterprise = &w.enterprises[rng.random_range(0..w.enterprises.len())];
    let span = (w.now - w.start).num_seconds().max(1);
    let created = w.start + Duration::seconds(rng.random_range(0..span));
    let priority = match rng.random_range(0..100) {
        0..15 => Priority::Low,
        15..75 => Priority::Normal,
        75..95 => Priority::High,
        _ => Priority::Urgent,
    };
    let due = sla::due_at(created, category.sla_hours, priority);
    let sla_hours = f64::from(category.sla_hours);
    let reference = format!("{}{:07}", w.prefix, n + 1);
    let ask = ASKS[rng.random_range(0..ASKS.len())];
    let title = format!("{}：{ask}", category.name);
    let description = format!(
        "关于{}，{ask}，请尽快处理。联系人在工作日均可接听电话。",
        category.name
    );

    let mut event =
        |rng: &mut StdRng, kind: &str, actor: Option<&str>, from: Option<&str>, to: &str, at| {
            events.add(vec![
                Bind::Text(id(rng)),
                Bind::Text(ticket_id.clone()),
                Bind::Text(kind.to_owned()),
                Bind::OptText(actor.map(str::to_owned)),
                Bind::OptText(from.map(str::to_owned)),
                Bind::OptText(Some(to.to_owned())),
                Bind::OptText(None),
                Bind::Bool(false),
                Bind::Ts(at),
            ]);
        };
    let mut status = "submitted";
    let mut updated = created;
    let (mut assignee, mut accepted, mut resolved, mut closed, mut cancelled) =
        (None, None, None, None, None);
    let (mut rating, mut auto_closed, mut reopen_count) = (None, false, 0);
    event(
        rng,
        "created",
        Some(&enterprise.user_id),
        None,
        "submitted",
        created,
    );

    let team = &w.officials[category.department];
    // A few recent tickets wait for dispatch; older ones were all routed by now.
    let unrouted =
        team.is_empty() || (w.now - created < Duration::days(3) && rng.random_ratio(1, 20));
    let roll: u32 = rng.random_range(0..100);
    let mark = |at: NaiveDateTime| at <= w.now;
    if !unrouted {
        let official = team[rng.random_range(0..team.len())].clone();
        event(
            rng,
            "assigned",
            None,
            Some("submitted"),
            "assigned",
            created,
        );
        status = "assigned";
        assignee = Some(official.clone());
        let cancel_at = created + exp_hours(rng, 8.0);
        let accept_at = created + exp_hours(rng, sla_hours * 0.1);
        if roll < 4 && cancel_at < accept_at && mark(cancel_at) {
            event(
                rng,
                "cancelled",
                Some(&enterprise.user_id),
                Some("assigned"),
                "cancelled",
                cancel_at,
            );
            status = "cancelled";
            cancelled = Some(cancel_at);
            updated = cancel_at;
        } else if mark(accept_at) {
            event(
                rng,
                "accepted",
                Some(&official),
                Some("assigned"),
                "in_progress",
                accept_at,
            );
            status = "in_progress";
            accepted = Some(accept_at);
            updated = accept_at;
            let mut resolve_at = accept_at + exp_hours(rng, sla_hours * 0.5);
            if rng.random_ratio(1, 10) {
                let visit_at = accept_at + (resolve_at - accept_at) / 2;
                if mark(visit_at) {
                    comments.add(vec![
                        Bind::Text(id(rng)),
                        Bind::Text(ticket_id.clone()),
                        Bind::Text(official.clone()),
                        Bind::Text("site_visit".to_owned()),
                        Bind::Text("已上门核查现场情况。".to_owned()),
                        Bind::Ts(visit_at),
                    ]);
                }
            }
            if mark(resolve_at) {
                event(
                    rng,
                    "resolved",
                    Some(&official),
                    Some("in_progress"),
                    "resolved",
                    resolve_at,
                );
                status = "resolved";
                resolved = Some(resolve_at);
                updated = resolve_at;
                let reopen_at = resolve_at + exp_hours(rng, 20.0);
                if roll >= 94 && reopen_at < resolve_at + Duration::days(7) && mark(reopen_at) {
                    event(
                        rng,
                        "reopened",
                        Some(&enterprise.user_id),
                        Some("resolved"),
                        "in_progress",
                        reopen_at,
                    );
                    reopen_count = 1;
                    status = "in_progress";
                    resolved = None;
                    updated = reopen_at;
                    resolve_at = reopen_at + exp_hours(rng, sla_hours * 0.3);
                    if mark(resolve_at) {
                        event(
                            rng,
                            "resolved",
                            Some(&official),
                            Some("in_progress"),
                            "resolved",
                            resolve_at,
                        );
                        status = "resolved";
                        resolved = Some(resolve_at);
                        updated = resolve_at;
                    }
                }
            }
            if let Some(resolve_at) = resolved {
                let confirm_at = resolve_at + exp_hours(rng, 30.0);
                let auto_close_at = resolve_at + Duration::days(7);
                if rng.random_ratio(3, 4) && confirm_at < auto_close_at && mark(confirm_at) {
                    let stars = match rng.random_range(0..100) {
                        0..5 => 1,
                        5..12 => 2,
                        12..25 => 3,
                        25..55 => 4,
                        _ => 5,
                    };
                    event(
                        rng,
                        "confirmed",
                        Some(&enterprise.user_id),
                        Some("resolved"),
                        "closed",
                        confirm_at,
                    );
                    status = "closed";
                    rating = Some(stars);
                    closed = Some(confirm_at);
                    updated = confirm_at;
                } else if mark(auto_close_at) {
                    event(
                        rng,
                        "auto_closed",
                        None,
                        Some("resolved"),
                        "closed",
                        auto_close_at,
                    );
                    status = "closed";
                    auto_closed = true;
                    closed = Some(auto_close_at);
                    updated = auto_close_at;
                }
            }
        }
    }
    if rng.random_ratio(1, 5) {
        let asked_at = created + Duration::minutes(rng.random_range(5..240));
        if asked_at <= w.now {
            comments.add(vec![
                Bind::Text(id(rng)),
                Bind::Text(ticket_id.clone()),
                Bind::Text(enterprise.user_id.clone()),
                Bind::Text("message".to_owned()),
                Bind::Text("请问目前办理到哪一步了？".to_owned()),
                Bind::Ts(asked_at),
            ]);
        }
    }
    // The sweep marks a deadline once, when it passes with the ticket still open.
    let open_until = cancelled.or(resolved).unwrap_or(w.now);
    let overdue_at = (due < open_until && due < w.now).then_some(due);
    // Likewise the warning and the escalation, at the default settings, so a seeded history
    // does not fire them all on the first sweep.
    let warn_at = sla::warn_at(created, due, 0.8);
    let warned_for = (warn_at < open_until && warn_at < w.now).then_some(due);
    let escalate_at = due + Duration::hours(24);
    let escalated_for = (escalate_at < open_until && escalate_at < w.now).then_some(due);
    tickets.add(vec![
        Bind::Text(ticket_id.clone()),
        Bind::Text(reference.clone()),
        Bind::Text(title.clone()),
        Bind::Text(description.clone()),
        Bind::Text(search_text(&reference, &title, &description)),
        Bind::Text(category.id.clone()),
        Bind::OptText(Some(department_id.clone())),
        Bind::OptText(assignee),
        Bind::Text(enterprise.id.clone()),
        Bind::Text(enterprise.user_id.clone()),
        Bind::Text(priority.as_str().to_owned()),
        Bind::Text(status.to_owned()),
        Bind::Ts(due),
        Bind::OptTs(overdue_at),
        Bind::OptTs(Some(warn_at)),
        Bind::OptTs(warned_for),
        Bind::OptTs(escalated_for),
        Bind::Ts(created),
        Bind::Ts(updated),
        Bind::OptTs(accepted),
        Bind::OptTs(resolved),
        Bind::OptTs(closed),
        Bind::OptTs(cancelled),
        Bind::OptText(resolved.map(|_| "已按规定办结，并电话告知企业。".to_owned())),
        Bind::OptInt(rating),
        Bind::OptText(rating.map(|r| {
            if r >= 4 {
                "办理高效，感谢！"
            } else {
                "等待时间较长。"
            }
            .to_owned()
        })),
        Bind::Bool(auto_closed),
        Bind::Int(reopen_count),
        Bind::Int(1 + events_len_hint(status, reopen_count)),
    ]);
}

/// A version per change, as the app counts them: roughly one per status step.
fn events_len_hint(status: &str, reopen_count: i64) -> i64 {
    let steps = match status {
        "submitted" => 0,
        "assigned" => 1,
        "in_progress" => 2,
        "resolved" => 3,
        "closed" => 4,
        _ => 2,
    };
    steps + 2 * reopen_count
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_credit_codes_are_valid_and_distinct() {
        let a = credit_code(0).unwrap();
        let b = credit_code(1).unwrap();
        let c = credit_code(1_000_000).unwrap();
        for code in [&a, &b, &c] {
            assert!(CreditCode::parse(code).is_ok(), "{code}");
        }
        assert_ne!(a, b);
        assert_ne!(b, c);
    }

    #[test]
    fn durations_are_positive_and_seeded() {
        let mut one = StdRng::seed_from_u64(3);
        let mut two = StdRng::seed_from_u64(3);
        for _ in 0..100 {
            let d = exp_hours(&mut one, 5.0);
            assert!(d > Duration::zero());
            assert_eq!(d, exp_hours(&mut two, 5.0));
        }
    }
}
