//! The statistics dashboard over plain HTTP: its figures, tables and CSV files are the
//! statistics API's for the same filters, and an official sees their own department only.
//! The same page in a real browser is in `browser_dashboard.rs`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::console::{Page, Visitor};
use super::helpers::{Desk, Session, TestApp};

/// Two departments with an official each, two enterprises, and tickets in every state that
/// moves a figure: rated, reopened, visited, cancelled, still open; over two days.
pub struct History {
    pub admin: Session,
    pub o1: Session,
    pub d1: String,
    pub d2: String,
    pub c1: String,
    pub c2: String,
}

pub const ADMIN: &str = "admin@example.com";
pub const O1: &str = "o1@example.com";

pub async fn history(app: &TestApp) -> History {
    let admin = app.with_admin(ADMIN).await;
    let Desk {
        department: d1,
        category: c1,
        officials: mut o1,
    } = app
        .with_desk(&admin, "税务服务", "纳税申报", 24, &[O1])
        .await;
    let Desk {
        department: d2,
        category: c2,
        officials: mut o2,
    } = app
        .with_desk(&admin, "市场监管", "营业执照", 48, &["o2@example.com"])
        .await;
    let (o1, o2) = (o1.remove(0), o2.remove(0));
    let e1 = app.with_enterprise(0, "e1@example.com").await;
    let e2 = app.with_enterprise(1, "e2@example.com").await;

    let t0: DateTime<Utc> = "2027-03-01T00:00:00Z".parse().unwrap();
    app.clock.advance(t0 - Utc::now());
    let a = app.file_ticket(&e1, "发票申领", &c1).await;
    let b = app.file_ticket(&e1, "税务登记", &c1).await;
    let c = app.file_ticket(&e2, "经营范围变更", &c2).await;
    let _d = app.file_ticket(&e2, "名称变更", &c2).await;
    let e = app.file_ticket(&e1, "不再需要", &c2).await;
    app.advance_hours(1);
    for t in [&a, &b] {
        app.act(&o1, t, "accept", json!({})).await.expect(200);
    }
    app.act(&o2, &c, "accept", json!({})).await.expect(200);
    app.act(&e1, &e, "cancel", json!({})).await.expect(200);
    app.advance_hours(3);
    for t in [&a, &b] {
        app.act(&o1, t, "resolve", json!({"resolution": "已办理"}))
            .await
            .expect(200);
    }
    let visit = json!({"body": "到企业现场核实", "kind": "site_visit"});
    app.comment(&o1, &b, visit).await.expect(201);
    app.advance_hours(2);
    app.act(&e1, &a, "confirm", json!({"rating": 5}))
        .await
        .expect(200);
    app.act(&e1, &b, "reopen", json!({"note": "还没有解决"}))
        .await
        .expect(200);
    app.advance_hours(30); // the next day in Shanghai
    app.act(&o2, &c, "resolve", json!({"resolution": "已变更"}))
        .await
        .expect(200);
    let f = app.file_ticket(&e2, "退税进度", &c1).await;
    app.advance_hours(2);
    app.act(&o1, &b, "resolve", json!({"resolution": "已补办"}))
        .await
        .expect(200);
    app.act(&e1, &b, "confirm", json!({"rating": 2}))
        .await
        .expect(200);
    app.act(&o1, &f, "accept", json!({})).await.expect(200);
    History {
        admin,
        o1,
        d1,
        d2,
        c1,
        c2,
    }
}

/// `data-metric="x" data-value="y"` pairs of the figure cards.
fn figures(page: &Page) -> Vec<(String, String)> {
    page.body
        .split("data-metric=\"")
        .skip(1)
        .map(|rest| {
            let name = rest.split('"').next().unwrap().to_owned();
            let value = rest.split("data-value=\"").nth(1).unwrap();
            (name, value.split('"').next().unwrap().to_owned())
        })
        .collect()
}

/// The rows of the table `data-table="id"`: each row's label and `data-column` → value.
fn table(page: &Page, id: &str) -> Vec<(String, Vec<(String, String)>)> {
    let start = page
        .body
        .find(&format!("data-table=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}"));
    let body = &page.body[start..];
    let body = &body[body.find("<tbody>").unwrap()..body.find("</tbody>").unwrap()];
    body.split("<th scope=\"row\">")
        .skip(1)
        .map(|row| {
            let label = row.split("</th>").next().unwrap().to_owned();
            let cells = row
                .split("data-column=\"")
                .skip(1)
                .map(|c| {
                    let name = c.split('"').next().unwrap().to_owned();
                    let value = c.split("data-value=\"").nth(1).unwrap();
                    (name, value.split('"').next().unwrap().to_owned())
                })
                .collect();
            (label, cells)
        })
        .collect()
}

/// The page's `data-value` against the API's JSON value: the same number, or both empty.
#[track_caller]
fn same(page: &str, api: &Value, what: &str) {
    match api {
        Value::Null => assert_eq!(page, "", "{what}: the API says null"),
        v => assert_eq!(
            page.parse::<f64>().ok(),
            v.as_f64(),
            "{what}: page {page}, API {v}"
        ),
    }
}

fn check_figures(page: &Page, summary: &Value) {
    let figs = figures(page);
    assert_eq!(figs.len(), 14, "{figs:?}");
    for (name, value) in &figs {
        same(value, &summary[name], name);
    }
}

fn check_breakdown(page: &Page, id: &str, api: &Value) {
    let rows = table(page, id);
    let items = api["items"].as_array().unwrap();
    assert_eq!(rows.len(), items.len(), "{id}: {rows:?}");
    for ((label, cells), item) in rows.iter().zip(items) {
        if item["key"].is_null() {
            assert_eq!(label, "未分配");
        } else {
            assert_eq!(label, item["label"].as_str().unwrap());
        }
        assert_eq!(cells.len(), 13);
        for (name, value) in cells {
            same(value, &item[name], &format!("{id} {label} {name}"));
        }
    }
}

fn query_string(filters: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(filters).unwrap()
}

#[tokio::test]
async fn the_dashboard_shows_the_statistics_apis_figures_for_the_same_filters() {
    let app = TestApp::spawn().await;
    let h = history(&app).await;
    let mut v = Visitor::new(&app);
    v.sign_in(ADMIN).await;

    let filter_sets: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("from", "2027-03-01"), ("to", "2027-03-01")],
        vec![("from", "2027-03-02"), ("to", "2027-03-31")],
        vec![("department_id", &h.d1)],
        vec![("category_id", &h.c2), ("from", "2027-02-01")],
    ];
    for filters in &filter_sets {
        let qs = query_string(filters);
        // Without bounds the page shows this month; empty ones mean all time, as in the API.
        let mut shown = filters.clone();
        for bound in ["from", "to"] {
            if !filters.iter().any(|(k, _)| *k == bound) {
                shown.push((bound, ""));
            }
        }
        let page = v
            .get(&format!("/dashboard?{}&interval=day", query_string(&shown)))
            .await;
        assert_eq!(page.status, 200, "{qs}: {}", page.body);
        let summary = app
            .get_q("/stats/summary", h.admin.t(), filters)
            .await
            .expect(200)
            .body;
        check_figures(&page, &summary);
        for by in ["department", "category", "official", "enterprise"] {
            let mut q = filters.clone();
            q.push(("by", by));
            let api = app
                .get_q("/stats/breakdown", h.admin.t(), &q)
                .await
                .expect(200)
                .body;
            check_breakdown(&page, &format!("by-{by}"), &api);
        }
        let mut q = filters.clone();
        q.push(("interval", "day"));
        let trend = app
            .get_q("/stats/trend", h.admin.t(), &q)
            .await
            .expect(200)
            .body;
        let rows = table(&page, "trend");
        let items = trend["items"].as_array().unwrap();
        assert_eq!(rows.len(), items.len(), "{qs}");
        for ((label, cells), item) in rows.iter().zip(items) {
            assert_eq!(label, item["period_start"].as_str().unwrap());
            for (name, value) in cells {
                same(value, &item[name], &format!("trend {label} {name}"));
            }
        }
    }

    // The figures worked out by hand for the whole history, as the page writes them.
    let page = v.get("/dashboard?from=&to=").await;
    let summary = app.get("/stats/summary", h.admin.t()).await.body;
    assert_eq!(summary["total"], 6);
    assert_eq!(summary["site_visits"], 1);
    assert_eq!(summary["reopen_rate"], 0.3333);
    assert!(page.body.contains(">33.3%<"), "reopen rate as a percentage");
    assert!(
        page.body
            .contains("全部时间创建的诉求 · 全部部门 · 全部类别")
    );
    let pct = |v: &Value| format!("{:.1}%", v.as_f64().unwrap() * 100.0);
    let headline = format!(
        "共 6 件诉求，响应率 {}，办结率 60.0%，按时办结率 66.7%，满意率 {}，平均满意度 3.50（满分 5）。",
        pct(&summary["response_rate"]),
        pct(&summary["satisfaction_rate"])
    );
    assert!(page.body.contains(&headline), "{headline}");
    // Two ratings, a 5 and a 2.
    let rated = table(&page, "satisfaction");
    let counts: Vec<&str> = rated.iter().map(|(_, c)| c[0].1.as_str()).collect();
    assert_eq!(counts, ["0", "1", "0", "0", "1"]);
    // Every chart is an image with a title and description, and no style attributes.
    assert_eq!(page.body.matches("<svg").count(), 6);
    assert_eq!(page.body.matches("role=\"img\"").count(), 6);
    assert!(!page.body.contains("style="));
    assert!(page.header("cache-control").contains("no-store"));

    // A filter in the form names the range in words, and links keep the filters.
    let page = v
        .get(&format!(
            "/dashboard?from=2027-03-01&to=2027-03-31&department_id={}",
            h.d1
        ))
        .await;
    assert!(
        page.body
            .contains("2027-03-01 至 2027-03-31 创建的诉求 · 税务服务 · 全部类别")
    );
    assert!(page.body.contains(&format!(
        "href=\"/dashboard/breakdown.csv?from=2027-03-01&#38;to=2027-03-31&#38;department_id={}&#38;interval=day&#38;by=category\"",
        h.d1
    )));
}

#[tokio::test]
async fn tables_sort_by_any_column_through_links() {
    let app = TestApp::spawn().await;
    let h = history(&app).await;
    let mut v = Visitor::new(&app);
    v.sign_in(ADMIN).await;
    let labels = |page: &Page, id: &str| -> Vec<String> {
        table(page, id).into_iter().map(|(l, _)| l).collect()
    };
    // By default the largest group comes first: 税务服务 has 3 tickets, 市场监管 3, so by name.
    let page = v.get("/dashboard?from=&to=").await;
    let api = app
        .get_q("/stats/breakdown", h.admin.t(), &[("by", "enterprise")])
        .await
        .body;
    let by_api: Vec<String> = api["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(labels(&page, "by-enterprise"), by_api);
    assert!(page.body.contains("aria-sort=\"descending\""));

    // Enterprise 0 filed 3 (one cancelled), Enterprise 1 filed 3: sorting by resolution
    // rate ascending puts the lower first, and the header says so.
    let page = v
        .get("/dashboard?from=&to=&sort_enterprise=resolution_rate.asc")
        .await;
    let rows = table(&page, "by-enterprise");
    let rates: Vec<f64> = rows
        .iter()
        .map(|(_, c)| c[1].1.parse::<f64>().unwrap())
        .collect();
    assert!(rates.windows(2).all(|w| w[0] <= w[1]), "{rates:?}");
    assert!(page.body.contains(
        "aria-sort=\"ascending\"><a href=\"/dashboard?from=&#38;to=&#38;interval=month&#38;sort_enterprise=resolution_rate.desc#by-enterprise\""
    ));
    let page = v
        .get("/dashboard?from=&to=&sort_enterprise=label.desc")
        .await;
    let mut sorted = labels(&page, "by-enterprise");
    assert_eq!(sorted, ["Enterprise 1", "Enterprise 0"]);
    sorted.reverse();
    let page = v
        .get("/dashboard?from=&to=&sort_enterprise=label.asc")
        .await;
    assert_eq!(labels(&page, "by-enterprise"), sorted);
    // A sort naming no column leaves the order alone.
    let page = v
        .get("/dashboard?from=&to=&sort_enterprise=bogus.asc")
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(labels(&page, "by-enterprise"), by_api);
}

#[tokio::test]
async fn an_official_sees_their_own_department_only() {
    let app = TestApp::spawn().await;
    let h = history(&app).await;
    let mut v = Visitor::new(&app);
    v.sign_in(O1).await;
    let page = v.get("/dashboard?from=&to=").await;
    assert_eq!(page.status, 200);
    let own = app.get("/stats/summary", h.o1.t()).await.expect(200).body;
    let as_admin = app
        .get_q("/stats/summary", h.admin.t(), &[("department_id", &h.d1)])
        .await
        .body;
    assert_eq!(own, as_admin);
    check_figures(&page, &own);
    assert!(page.body.contains("· 税务服务 ·"));
    // No department table, no department choice, and only the department's categories.
    assert!(!page.body.contains("data-table=\"by-department\""));
    assert!(!page.body.contains("name=\"department_id\""));
    assert!(page.body.contains(&h.c1));
    assert!(!page.body.contains(&h.c2));
    let categories = table(&page, "by-category");
    assert_eq!(categories.len(), 1);
    assert_eq!(categories[0].0, "纳税申报");
    for (label, _) in table(&page, "by-official") {
        assert!(!label.contains("o2@"), "{label}");
    }

    // Asking for another department is refused, on the page and in the CSV.
    let other = v
        .get(&format!("/dashboard?from=&to=&department_id={}", h.d2))
        .await;
    assert_eq!(other.status, 403);
    let csv = v
        .get(&format!(
            "/dashboard/breakdown.csv?by=category&department_id={}",
            h.d2
        ))
        .await;
    assert_eq!(csv.status, 403);

    // Enterprises have no dashboard; signed-out visitors are sent to sign in.
    let mut e = Visitor::new(&app);
    e.sign_in("e1@example.com").await;
    assert_eq!(e.get("/dashboard?from=&to=").await.status, 403);
    let mut nobody = Visitor::new(&app);
    let page = nobody.get("/dashboard?from=2027-03-01").await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.header("location"),
        "/login?next=%2Fdashboard%3Ffrom%3D2027-03-01"
    );
}

/// The raw bytes of a GET with the visitor's cookie: CSV keeps its byte-order mark.
async fn bytes(
    app: &TestApp,
    v: &Visitor<'_>,
    path: &str,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let res = app
        .client
        .get(format!("{}{path}", app.address))
        .header(
            "cookie",
            format!("qifu_session={}", v.cookies["qifu_session"]),
        )
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.bytes().await.unwrap().to_vec())
}

async fn api_bytes(app: &TestApp, who: &Session, path: &str, query: &[(&str, &str)]) -> Vec<u8> {
    let res = app
        .client
        .get(format!("{}{path}", app.api))
        .bearer_auth(who.t().unwrap())
        .query(query)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn every_table_downloads_as_the_apis_csv() {
    let app = TestApp::spawn().await;
    let h = history(&app).await;
    for (email, who) in [(ADMIN, &h.admin), (O1, &h.o1)] {
        let mut v = Visitor::new(&app);
        v.sign_in(email).await;
        let page = v.get("/dashboard?from=2027-03-01&to=2027-03-31").await;
        let links: Vec<String> = page
            .body
            .split("href=\"/dashboard/")
            .skip(1)
            .map(|l| {
                format!(
                    "/dashboard/{}",
                    l.split('"').next().unwrap().replace("&#38;", "&")
                )
            })
            .collect();
        let expected = if email == ADMIN { 6 } else { 5 };
        assert_eq!(links.len(), expected, "{links:?}");
        for link in links {
            let (status, headers, body) = bytes(&app, &v, &link).await;
            assert_eq!(status, 200, "{link}");
            let (path, query) = link.split_once('?').unwrap();
            let mut query: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
            let api_path = match path {
                "/dashboard/summary.csv" => "/stats/summary",
                "/dashboard/breakdown.csv" => "/stats/breakdown",
                "/dashboard/trend.csv" => "/stats/trend",
                other => panic!("unexpected link {other}"),
            };
            if api_path != "/stats/trend" {
                query.retain(|(k, _)| k != "interval");
            }
            query.push(("format".into(), "csv".into()));
            let pairs: Vec<(&str, &str)> = query
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let api = api_bytes(&app, who, api_path, &pairs).await;
            assert!(body.starts_with(b"\xEF\xBB\xBF"), "{link}: BOM");
            assert_eq!(body, api, "{link}");
            let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_owned();
            assert_eq!(h("content-type"), "text/csv; charset=utf-8");
            assert!(h("content-disposition").starts_with("attachment; filename=\"qifu-stats-"));
            assert!(h("content-disposition").contains("2027-03-01-2027-03-31"));
            assert_eq!(h("cache-control"), "no-store");
        }
    }
}

#[tokio::test]
async fn bad_dates_re_render_the_filters_with_errors() {
    let app = TestApp::spawn().await;
    history(&app).await;
    let mut v = Visitor::new(&app);
    v.sign_in(ADMIN).await;
    let page = v.get("/dashboard?from=2027-13-01&to=2027-03-01").await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("<title>错误："));
    assert!(page.body.contains("href=\"#f-from\">请输入开始日期"));
    assert!(
        page.body.contains("value=\"2027-13-01\""),
        "the input is kept"
    );
    assert!(
        !page.body.contains("data-metric"),
        "no figures for a bad filter"
    );
    let page = v.get("/dashboard?from=2027-03-05&to=2027-03-01").await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("href=\"#f-to\""));
    // Ten thousand days are not a chart: choose weeks or months.
    let page = v
        .get("/dashboard?from=2000-01-01&to=2027-03-01&interval=day")
        .await;
    assert_eq!(page.status, 422);
    assert!(
        page.body
            .contains("href=\"#f-interval\">请选择按日、按周或按月；日期范围很长时")
    );
    // Without dates: this month, in a link that says so.
    let page = v.get("/dashboard?category_id=x").await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.header("location"),
        "/dashboard?from=2027-03-01&to=2027-03-02&category_id=x&interval=day"
    );
    // Nothing in the range: the empty states say what to do.
    let page = v.get("/dashboard?from=2030-01-01&to=2030-01-31").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("这个范围内还没有诉求"));
}

#[tokio::test]
async fn names_people_typed_show_as_text_in_charts_and_tables() {
    let app = TestApp::spawn().await;
    let h = history(&app).await;
    let name = format!(
        "<script>alert(1)</script>{}",
        "杭州某某新材料科技".repeat(8)
    );
    let body = json!({
        "enterprise": {"name": name, "credit_code": super::helpers::CREDIT_CODES[2]},
        "user": {"name": "王五", "email": "e3@example.com", "password": super::helpers::PASSWORD}
    });
    app.post("/auth/register", None, body).await.expect(201);
    let e3 = app.login_as("e3@example.com").await;
    app.file_ticket(&e3, "用电接入", &h.c1).await;
    let mut v = Visitor::new(&app);
    v.sign_in(ADMIN).await;
    let page = v.get("/dashboard?from=&to=").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script>alert"));
    let escaped = "&#60;script&#62;alert(1)&#60;/script&#62;";
    // The table has the whole name; the chart cuts it to its width.
    let rows = table(&page, "by-enterprise");
    assert!(
        rows.iter()
            .any(|(l, _)| *l == format!("{escaped}{}", "杭州某某新材料科技".repeat(8)))
    );
    let chart = page
        .body
        .split("id=\"chart-enterprise-title\"")
        .nth(1)
        .unwrap();
    let chart = chart.split("</svg>").next().unwrap();
    assert!(
        chart.contains("&lt;script&gt;alert(1)&lt;/script&gt;杭州"),
        "{chart}"
    );
    assert!(chart.contains("…</text>"));
}
