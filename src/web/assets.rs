//! CSS, scripts and icons compiled into the binary, served under content-hashed names
//! (`app.css` → `/assets/app.3f9a1c2e.css`) and cached for a year.

use std::collections::HashMap;

use actix_web::http::header::{self, CacheControl, CacheDirective, EntityTag};
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;

// `debug-embed` makes debug builds embed too, so tests serve what a release serves.
#[derive(RustEmbed)]
#[folder = "assets/"]
struct Files;

/// Logical name → hashed URL, and hashed file name → logical name.
#[derive(Debug)]
pub struct Assets {
    urls: HashMap<String, String>,
    hashes: HashMap<String, String>,
}

fn split(name: &str) -> (&str, &str) {
    name.rsplit_once('.').unwrap_or((name, ""))
}

impl Assets {
    pub fn load() -> Assets {
        let mut urls = HashMap::new();
        let mut hashes = HashMap::new();
        for name in Files::iter() {
            let Some(file) = Files::get(&name) else {
                continue;
            };
            let hash = hex::encode(&file.metadata.sha256_hash()[..6]);
            let (stem, ext) = split(&name);
            urls.insert(name.to_string(), format!("/assets/{stem}.{hash}.{ext}"));
            hashes.insert(name.to_string(), hash);
        }
        Assets { urls, hashes }
    }

    /// The URL of a file in `assets/`; an unknown name is a bug a test catches.
    pub fn url<'a>(&'a self, name: &'a str) -> &'a str {
        self.urls.get(name).map_or(name, String::as_str)
    }

    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.urls.keys()
    }
}

fn content_type(ext: &str) -> &'static str {
    match ext {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// `/assets/{stem}.{hash}.{ext}`. The current hash is immutable for a year; a known file asked
/// for by an older hash (a page from the previous release during a rolling deploy) gets
/// today's bytes, revalidated every time.
pub async fn serve(
    req: HttpRequest,
    path: web::Path<String>,
    assets: web::Data<super::Console>,
) -> HttpResponse {
    let requested = path.into_inner();
    let (rest, ext) = split(&requested);
    let (stem, hash) = split(rest);
    let name = format!("{stem}.{ext}");
    let (Some(file), Some(current)) = (Files::get(&name), assets.assets.hashes.get(&name)) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    };
    let etag = EntityTag::new_strong(current.clone());
    let cache = if hash == current {
        CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(31_536_000),
            CacheDirective::Extension("immutable".into(), None),
        ])
    } else {
        CacheControl(vec![CacheDirective::NoCache])
    };
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().trim_matches('"') == current));
    let mut res = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header(cache)
        .insert_header(header::ETag(etag))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if matches {
        return res.finish();
    }
    res.content_type(content_type(ext))
        .body(file.data.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_gets_a_hashed_url() {
        let assets = Assets::load();
        for name in ["app.css", "app.js", "icon.svg"] {
            let url = assets.url(name);
            assert!(url.starts_with("/assets/"), "{name}: {url}");
            assert_ne!(url, format!("/assets/{name}"));
        }
        assert_eq!(assets.url("nope.css"), "nope.css");
    }
}
