//! The statistics dashboard in a real browser: filters, sorting, the language switch, axe-core
//! on every view, and the A4 print of a monthly report.

use fantoccini::wd::PrintConfiguration;
use serde_json::Value;

use super::browser::{Tab, browser};
use super::dashboard::{ADMIN, O1, history};
use super::helpers::TestApp;

/// The figure cards as `metric → data-value`.
async fn figures(tab: &Tab<'_>) -> Value {
    tab.js("const out = {};
         document.querySelectorAll('.figure').forEach(f => out[f.dataset.metric] = f.dataset.value);
         return out;")
        .await
}

#[track_caller]
fn same_figures(page: &Value, api: &Value) {
    for (name, value) in page.as_object().unwrap() {
        let value = value.as_str().unwrap();
        match &api[name] {
            Value::Null => assert_eq!(value, "", "{name}"),
            v => assert_eq!(value.parse::<f64>().ok(), v.as_f64(), "{name}"),
        }
    }
    assert_eq!(page.as_object().unwrap().len(), 14);
}

/// With QIFU_SCREENSHOTS=DIR, the whole page (not just the window) at 1280 and 375 px.
async fn shoot_page(tab: &Tab<'_>, name: &str) {
    let Ok(dir) = std::env::var("QIFU_SCREENSHOTS") else {
        return;
    };
    for width in [1280u32, 375] {
        tab.c.set_window_size(width, 900).await.unwrap();
        let height = tab
            .js("return document.documentElement.scrollHeight;")
            .await
            .as_u64()
            .unwrap();
        tab.c
            .set_window_size(width, height.min(6000) as u32 + 100)
            .await
            .unwrap();
        let png = tab.c.screenshot().await.unwrap();
        std::fs::write(format!("{dir}/{name}-{width}.png"), png).unwrap();
    }
    tab.c.set_window_size(1280, 900).await.unwrap();
}

#[tokio::test]
async fn the_dashboard_in_a_browser() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let h = history(&app).await;
    let mut tab = Tab::new(&app, &c);
    tab.sign_in(ADMIN).await;
    tab.click(".site-nav a[href='/dashboard']").await;
    assert_eq!(tab.path().await, "/dashboard");
    assert_eq!(tab.text("h1").await, "统计分析");
    let all = app
        .get("/stats/summary", h.admin.t())
        .await
        .expect(200)
        .body;
    same_figures(&figures(&tab).await, &all);

    // Change the filters in the form: one department, March 2027.
    tab.select("#f-department_id", &h.d1).await;
    tab.js("document.getElementById('f-from').value = '2027-03-01';
         document.getElementById('f-to').value = '2027-03-31';")
        .await;
    tab.click(".dash-filters button[type=submit]").await;
    let url = c.current_url().await.unwrap();
    assert!(
        url.query()
            .unwrap()
            .contains(&format!("department_id={}", h.d1))
    );
    assert!(tab.text(".dash-scope").await.contains("税务服务"));
    let d1 = app
        .get_q(
            "/stats/summary",
            h.admin.t(),
            &[
                ("from", "2027-03-01"),
                ("to", "2027-03-31"),
                ("department_id", &h.d1),
            ],
        )
        .await
        .expect(200)
        .body;
    same_figures(&figures(&tab).await, &d1);
    assert_ne!(d1["total"], all["total"]);

    // The trend by week, then a table sorted by a header link: the URL says both.
    tab.select("#f-interval", "week").await;
    tab.click(".dash-filters button[type=submit]").await;
    assert_eq!(tab.text("#trend-h").await, "趋势（按周）");
    tab.click("#by-enterprise thead th:nth-child(4) a").await;
    let url = c.current_url().await.unwrap();
    assert!(
        url.query()
            .unwrap()
            .contains("sort_enterprise=resolution_rate.desc")
    );
    assert!(url.query().unwrap().contains("interval=week"));
    assert_eq!(
        tab.js("return document.querySelector('#by-enterprise thead th:nth-child(4)').getAttribute('aria-sort')")
            .await,
        "descending"
    );

    // The monthly report for the district, on screen and on A4.
    tab.go("/dashboard?from=2027-03-01&to=2027-03-31").await;
    shoot_page(&tab, "dashboard").await;
    let pdf = c
        .print(PrintConfiguration::builder().build().unwrap())
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    if let Ok(dir) = std::env::var("QIFU_SCREENSHOTS") {
        std::fs::write(format!("{dir}/dashboard-print.pdf"), &pdf).unwrap();
    }

    // In English.
    tab.click(".lang-switch button").await;
    assert_eq!(tab.text("h1").await, "Statistics");
    assert!(tab.text("#figures-h").await.contains("Key figures"));
    tab.click(".lang-switch button").await;

    // An official: their department only, no department choice.
    tab.c.delete_all_cookies().await.unwrap();
    tab.sign_in(O1).await;
    tab.go("/dashboard").await;
    let own = app.get("/stats/summary", h.o1.t()).await.expect(200).body;
    same_figures(&figures(&tab).await, &own);
    assert_eq!(
        tab.js("return document.getElementById('f-department_id') === null")
            .await,
        true
    );
    assert_eq!(
        tab.js("return document.getElementById('by-department') === null")
            .await,
        true
    );
    shoot_page(&tab, "dashboard-official").await;

    // A bad date re-renders the form with the error summary focused.
    tab.go("/dashboard?from=2027-02-30").await;
    assert!(tab.error_summary().await.contains("请输入开始日期"));

    tab.close(10).await;
}
