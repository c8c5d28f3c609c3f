//! `GET /problems/{slug}`: the human page behind each problem `type`.

use actix_web::http::header::{self, AcceptLanguage, Header};
use actix_web::{HttpRequest, HttpResponse, get, web};
use minijinja::{Environment, context};

use crate::error::{AppError, AppResult, ProblemType};
use crate::service::AppState;

const PAGE: &str = include_str!("../../templates/problems/page.html");

/// Shows what a problem type means and what to do about it.
#[utoipa::path(tag = "operations",
    params(("slug" = String, Path, description = "The slug of a problem `type`, e.g. `email-taken`")),
    responses(
    (status = 200, description = "The page, in Chinese or English by Accept-Language", body = String, content_type = "text/html"),
    (status = 404, description = "No problem type has this slug", body = crate::error::Problem, content_type = "application/problem+json")))]
#[get("/problems/{slug}")]
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
) -> AppResult<HttpResponse> {
    let kind = ProblemType::from_slug(&slug)
        .ok_or_else(|| AppError::not_found(&format!("problem type {slug}")))?;
    let chinese = match prefers_chinese(&req) {
        Some(chinese) => chinese,
        None => state.templates.locale("").starts_with("zh"),
    };
    let html = render(kind, chinese).map_err(|e| anyhow::anyhow!(e).context("problem page"))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::VARY, "Accept-Language"))
        .body(html))
}

/// The caller's first choice between Chinese and English, if it named either.
fn prefers_chinese(req: &HttpRequest) -> Option<bool> {
    let ranked = AcceptLanguage::parse(req).ok()?.ranked();
    ranked.iter().find_map(|tag| {
        let tag = tag.item()?.primary_language().to_ascii_lowercase();
        match tag.as_str() {
            "zh" => Some(true),
            "en" => Some(false),
            _ => None,
        }
    })
}

fn render(kind: ProblemType, chinese: bool) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    env.add_template("page.html", PAGE)?;
    let pick = |t: crate::error::Text| if chinese { t.zh } else { t.en };
    let status = kind.status();
    let reason = status.canonical_reason().unwrap_or_default();
    let (lang, words, happened) = if chinese {
        (
            "zh-CN",
            context! { happened => "发生了什么", todo => "怎么办" },
            format!(
                "服务器返回了 HTTP {} {reason}。响应中的 detail 字段说明具体原因；如有 errors 字段，则逐一列出了有问题的字段。",
                status.as_u16()
            ),
        )
    } else {
        (
            "en",
            context! { happened => "What happened", todo => "What to do" },
            format!(
                "The server answered HTTP {} {reason}. The response's detail says what exactly went wrong; its errors, if any, name each field.",
                status.as_u16()
            ),
        )
    };
    env.get_template("page.html")?.render(context! {
        lang,
        words,
        happened,
        title => pick(kind.title()),
        todo => pick(kind.todo()),
        uri => kind.uri(),
        status => status.as_u16(),
        code => kind.code(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_type_has_a_page_in_both_languages() {
        for &kind in ProblemType::ALL {
            let en = render(kind, false).unwrap();
            assert!(
                en.contains(kind.slug()) && en.contains("What to do"),
                "{kind:?}"
            );
            assert!(en.contains("<html lang=\"en\">"), "{kind:?}");
            let zh = render(kind, true).unwrap();
            assert!(
                zh.contains("怎么办") && zh.contains(kind.title().zh),
                "{kind:?}"
            );
            assert!(!en.contains("<script") && !zh.contains("<script"));
        }
    }
}
