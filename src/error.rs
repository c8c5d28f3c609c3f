//! The one application error type and its one mapping to RFC 9457 problem+json.
//!
//! Every distinct failure is a [`ProblemType`]: its slug (the `type` URI `/problems/<slug>`,
//! which clients branch on), its status, its contract `code` class, and the words of its
//! human page (`GET /problems/<slug>`). An [`AppError`] is a problem type plus the detail of
//! this occurrence.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::StoreError;

/// Text in the two languages the pages speak.
#[derive(Debug, Clone, Copy)]
pub struct Text {
    pub en: &'static str,
    pub zh: &'static str,
}

macro_rules! problem_types {
    ($($variant:ident = $slug:literal, $status:ident, $code:literal,
        title($title_en:literal, $title_zh:literal),
        todo($todo_en:literal, $todo_zh:literal);)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProblemType {
            $($variant),*
        }

        impl ProblemType {
            pub const ALL: &'static [ProblemType] = &[$(ProblemType::$variant),*];

            pub fn slug(self) -> &'static str {
                match self {
                    $(ProblemType::$variant => $slug),*
                }
            }

            pub fn status(self) -> StatusCode {
                match self {
                    $(ProblemType::$variant => StatusCode::$status),*
                }
            }

            /// The contract's class (`conflict`, `forbidden`, …), unchanged by the finer types.
            pub fn code(self) -> &'static str {
                match self {
                    $(ProblemType::$variant => $code),*
                }
            }

            pub fn title(self) -> Text {
                match self {
                    $(ProblemType::$variant => Text { en: $title_en, zh: $title_zh }),*
                }
            }

            /// What the person or client should do about it.
            pub fn todo(self) -> Text {
                match self {
                    $(ProblemType::$variant => Text { en: $todo_en, zh: $todo_zh }),*
                }
            }
        }
    };
}

problem_types! {
    MalformedRequest = "malformed-request", BAD_REQUEST, "bad_request",
        title("The request could not be read", "请求无法解析"),
        todo("Send well-formed JSON (or query parameters) whose values have the documented types.",
             "请发送格式正确的 JSON（或查询参数），各字段的类型须与接口文档一致。");
    Unauthorized = "unauthorized", UNAUTHORIZED, "unauthorized",
        title("Sign-in required", "需要登录"),
        todo("Send a valid access token in the Authorization header; if it expired, refresh it or sign in again.",
             "请在 Authorization 请求头中携带有效的访问令牌；令牌过期时请刷新或重新登录。");
    SessionEnded = "session-ended", UNAUTHORIZED, "unauthorized",
        title("This session is no longer valid", "本次登录已失效"),
        todo("The account was deactivated, its role changed or its enterprise was suspended since you signed in. Sign in again, or ask an administrator.",
             "登录后账号已被停用、角色已变更或所属企业已被暂停。请重新登录，或联系管理员。");
    WrongCredentials = "wrong-credentials", UNAUTHORIZED, "unauthorized",
        title("Wrong email or password", "邮箱或密码错误"),
        todo("Check the email and password and try again, or reset the password.",
             "请核对邮箱和密码后重试，或重置密码。");
    RefreshTokenInvalid = "refresh-token-invalid", UNAUTHORIZED, "unauthorized",
        title("The refresh token is not valid", "刷新令牌无效"),
        todo("The token is unknown, expired or was already used (reuse signs out the whole session). Sign in again.",
             "该令牌不存在、已过期或已被使用过（重复使用会注销整个会话）。请重新登录。");
    Forbidden = "forbidden", FORBIDDEN, "forbidden",
        title("Your role may not do this", "您的角色无权执行此操作"),
        todo("Sign in with an account whose role may do it, or ask an administrator.",
             "请使用有相应权限的账号登录，或联系管理员。");
    WrongActor = "wrong-actor", FORBIDDEN, "forbidden",
        title("Someone else must take this action", "此操作须由他人执行"),
        todo("Only the ticket's assignee, its enterprise or an administrator (depending on the action) may do it. Ask that person.",
             "根据操作不同，只有工单的承办人、提交企业或管理员可以执行。请联系相应人员。");
    OtherDepartment = "other-department", FORBIDDEN, "forbidden",
        title("Outside your department", "超出本部门范围"),
        todo("Officials see their own department's figures only; leave out the department or ask an administrator.",
             "工作人员只能查看本部门的数据；请去掉部门条件，或联系管理员。");
    StaffOnlyCommentKind = "staff-only-comment-kind", FORBIDDEN, "forbidden",
        title("Only staff may record this kind of comment", "此类记录仅限工作人员"),
        todo("Enterprise users post messages; internal notes, phone calls and site visits are staff records.",
             "企业用户请发送留言；内部备注、电话和走访记录仅限工作人员填写。");
    AccountDeactivated = "account-deactivated", FORBIDDEN, "forbidden",
        title("This account is deactivated", "账号已停用"),
        todo("Ask an administrator to reactivate the account.",
             "请联系管理员重新启用账号。");
    EnterprisePending = "enterprise-pending", FORBIDDEN, "forbidden",
        title("The enterprise is awaiting approval", "企业正在等待审核"),
        todo("An administrator reviews new enterprises; you can file tickets once it is approved.",
             "管理员正在审核新注册的企业；审核通过后即可提交工单。");
    EnterpriseRejected = "enterprise-rejected", FORBIDDEN, "forbidden",
        title("The enterprise's registration was rejected", "企业注册未通过审核"),
        todo("Read the reason in the notification email, or contact the service centre.",
             "请查看通知邮件中的原因，或联系服务中心。");
    EnterpriseSuspended = "enterprise-suspended", FORBIDDEN, "forbidden",
        title("The enterprise is suspended", "企业已被暂停"),
        todo("Its users cannot sign in or file tickets. Contact the service centre.",
             "该企业的用户暂时无法登录或提交工单。请联系服务中心。");
    OwnerOnly = "owner-only", FORBIDDEN, "forbidden",
        title("Only the enterprise's owners may do this", "仅企业负责人可执行此操作"),
        todo("Ask an owner of your enterprise to invite colleagues or change their accounts.",
             "请联系本企业的负责人邀请同事或调整其账号。");
    EmailUnverified = "email-unverified", FORBIDDEN, "forbidden",
        title("The email address is not verified yet", "邮箱尚未验证"),
        todo("Open the link in the verification email, or ask for a new one.",
             "请打开验证邮件中的链接，或重新发送验证邮件。");
    NotFound = "not-found", NOT_FOUND, "not_found",
        title("Not found", "未找到"),
        todo("Check the address or id; things outside your scope look absent too.",
             "请核对地址或编号；不在您权限范围内的内容同样显示为不存在。");
    MethodNotAllowed = "method-not-allowed", METHOD_NOT_ALLOWED, "method_not_allowed",
        title("This method is not allowed here", "此地址不支持该请求方法"),
        todo("The Allow header and the API documentation list the methods this path answers.",
             "请参阅 Allow 响应头和接口文档中该地址支持的方法。");
    EmailTaken = "email-taken", CONFLICT, "conflict",
        title("This email is already registered", "该邮箱已被注册"),
        todo("Sign in with it (or reset its password), or use another email.",
             "请直接使用该邮箱登录（或重置密码），或换用其他邮箱。");
    CreditCodeTaken = "credit-code-taken", CONFLICT, "conflict",
        title("An enterprise with this credit code is already registered", "该统一社会信用代码已被注册"),
        todo("Ask the enterprise's existing account holder for access, or contact the service centre.",
             "请联系本企业已注册的账号负责人，或联系服务中心。");
    DepartmentNameTaken = "department-name-taken", CONFLICT, "conflict",
        title("A department with this name exists", "已有同名部门"),
        todo("Choose another name, or edit the existing department.",
             "请换一个名称，或修改现有部门。");
    CategoryNameTaken = "category-name-taken", CONFLICT, "conflict",
        title("A category with this name exists", "已有同名事项类别"),
        todo("Choose another name, or edit the existing category.",
             "请换一个名称，或修改现有类别。");
    VersionMismatch = "version-mismatch", CONFLICT, "conflict",
        title("Someone else changed it meanwhile", "内容已被他人修改"),
        todo("Reload it, check the change, and try again.",
             "请刷新后查看最新内容，再重试。");
    InvalidTransition = "invalid-transition", CONFLICT, "conflict",
        title("Not possible in the ticket's current status", "工单当前状态不允许此操作"),
        todo("Reload the ticket: its status shows which actions are possible now.",
             "请刷新工单，根据当前状态选择可执行的操作。");
    TicketClosed = "ticket-closed", CONFLICT, "conflict",
        title("The ticket is closed", "工单已结束"),
        todo("Closed and cancelled tickets take no more messages; file a new ticket instead.",
             "已办结或已撤销的工单不能再留言；如有需要请提交新工单。");
    TooManyAttachments = "too-many-attachments", CONFLICT, "conflict",
        title("The ticket has as many attachments as it may have", "工单附件数量已达上限"),
        todo("Combine files (several scans into one PDF, for example), or ask an administrator to remove outdated ones.",
             "请合并文件（例如将多页扫描件合成一个 PDF）后再上传，或请管理员删除过时的附件。");
    ExtensionPending = "extension-pending", CONFLICT, "conflict",
        title("An extension request is already pending", "已有待审批的延期申请"),
        todo("Wait for an administrator to decide the pending request before asking again.",
             "请等待管理员审批当前的延期申请后再提出新的申请。");
    ExtensionDecided = "extension-decided", CONFLICT, "conflict",
        title("This extension request was decided already", "该延期申请已审批"),
        todo("Reload the ticket's extensions to see the decision.",
             "请刷新延期申请列表查看审批结果。");
    LastOwner = "last-owner", CONFLICT, "conflict",
        title("The enterprise would have no owner left", "企业将不再有负责人"),
        todo("Make another user an owner first.",
             "请先将其他用户设为负责人。");
    InvalidEnterpriseTransition = "invalid-enterprise-transition", CONFLICT, "conflict",
        title("Not possible in the enterprise's current status", "企业当前状态不允许此变更"),
        todo("Pending enterprises are approved or rejected; active ones suspended; suspended ones reactivated. Reload the enterprise to see its status.",
             "待审核的企业可通过或驳回，正常的企业可暂停，已暂停的企业可恢复。请刷新查看企业当前状态。");
    SelfDeactivation = "self-deactivation", CONFLICT, "conflict",
        title("Administrators cannot deactivate themselves", "管理员不能停用自己的账号"),
        todo("Ask another administrator to do it.",
             "请由其他管理员操作。");
    MessageNotDead = "message-not-dead", CONFLICT, "conflict",
        title("Only dead messages can be retried", "只有投递失败已放弃的邮件可以重试"),
        todo("The message is still pending or was sent; nothing to retry.",
             "该邮件仍在发送队列中或已发送，无需重试。");
    IdempotencyKeyInProgress = "idempotency-key-in-progress", CONFLICT, "conflict",
        title("A request with this Idempotency-Key is in progress", "使用此幂等键的请求正在处理"),
        todo("Wait a moment and send the same request again to get its answer.",
             "请稍候，再发送相同的请求即可获得其结果。");
    Duplicate = "duplicate", CONFLICT, "conflict",
        title("A record with these values already exists", "已存在相同的记录"),
        todo("Reload the list: a concurrent request probably created it.",
             "请刷新列表，可能有同时提交的请求已创建了该记录。");
    AlreadySeeded = "already-seeded", CONFLICT, "conflict",
        title("This database was seeded already", "该数据库已生成过演示数据"),
        todo("Seed an empty database, or use another domain.",
             "请对空数据库生成数据，或换用其他域名。");
    PreconditionFailed = "precondition-failed", PRECONDITION_FAILED, "precondition_failed",
        title("The If-Match version is stale", "If-Match 版本已过期"),
        todo("Reload the resource and send its current ETag in If-Match.",
             "请重新获取资源，并在 If-Match 中携带其当前的 ETag。");
    PayloadTooLarge = "payload-too-large", PAYLOAD_TOO_LARGE, "payload_too_large",
        title("The request body is too large", "请求内容过大"),
        todo("Send a smaller body or file; the limit is in the detail.",
             "请缩小请求内容或文件；上限见错误详情。");
    UnsupportedMediaType = "unsupported-media-type", UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
        title("Unsupported content type", "不支持的内容类型"),
        todo("Send JSON bodies as Content-Type: application/json. Attachments must be photos (JPEG, PNG, WebP, GIF, HEIC), PDF, OFD, Word, Excel, PowerPoint, plain text or CSV, whatever their name says.",
             "JSON 请求请以 Content-Type: application/json 发送。附件须为照片（JPEG、PNG、WebP、GIF、HEIC）、PDF、OFD、Word、Excel、PowerPoint、纯文本或 CSV 文件，以文件实际内容为准，与文件名无关。");
    RangeNotSatisfiable = "range-not-satisfiable", RANGE_NOT_SATISFIABLE, "range_not_satisfiable",
        title("The requested range is outside the file", "请求的范围超出文件大小"),
        todo("Ask for bytes within the size in Content-Range (bytes */size), or leave out Range.",
             "请在 Content-Range（bytes */文件大小）所示范围内请求，或不带 Range 重新下载。");
    Validation = "validation", UNPROCESSABLE_ENTITY, "validation_failed",
        title("Some values are invalid", "部分字段的值无效"),
        todo("Fix the fields listed in `errors` and send the request again.",
             "请按 errors 中列出的字段逐一修改后重新提交。");
    WeakPassword = "weak-password", UNPROCESSABLE_ENTITY, "validation_failed",
        title("The password is too weak", "密码强度不足"),
        todo("Choose a longer password that is not common and does not contain your email.",
             "请设置更长的密码，不要使用常见密码，也不要包含邮箱。");
    InvalidCreditCode = "invalid-credit-code", UNPROCESSABLE_ENTITY, "validation_failed",
        title("This is not a valid unified social credit code", "统一社会信用代码无效"),
        todo("Copy the 18 characters from the business licence; the last one is a check character.",
             "请从营业执照上抄录 18 位代码，最后一位是校验码。");
    WrongCurrentPassword = "wrong-current-password", UNPROCESSABLE_ENTITY, "validation_failed",
        title("The current password is wrong", "当前密码不正确"),
        todo("Type your current password again, or reset it if you forgot it.",
             "请重新输入当前密码；如已忘记，请重置密码。");
    TokenInvalid = "token-invalid", UNPROCESSABLE_ENTITY, "validation_failed",
        title("The link or token is invalid, expired or used", "链接或令牌无效、已过期或已被使用"),
        todo("Ask for a new email and use its link once.",
             "请重新获取邮件，并使用其中的链接（仅可使用一次）。");
    IdempotencyKeyReused = "idempotency-key-reused", UNPROCESSABLE_ENTITY, "validation_failed",
        title("This Idempotency-Key was used with another body", "此幂等键已用于不同的请求内容"),
        todo("Use a new key for a new request; repeat a key only to retry the very same request.",
             "新请求请使用新的幂等键；仅在重试完全相同的请求时才重复使用。");
    RateLimited = "rate-limited", TOO_MANY_REQUESTS, "rate_limited",
        title("Too many requests", "请求过于频繁"),
        todo("Wait for the seconds given in the Retry-After header, then try again.",
             "请等待 Retry-After 响应头给出的秒数后再试。");
    Internal = "internal", INTERNAL_SERVER_ERROR, "internal",
        title("Something went wrong on our side", "服务器内部错误"),
        todo("Try again later; if it keeps happening, report the X-Request-Id of the response.",
             "请稍后重试；如持续出现，请将响应中的 X-Request-Id 告知服务中心。");
}

impl ProblemType {
    pub fn from_slug(slug: &str) -> Option<ProblemType> {
        ProblemType::ALL.iter().copied().find(|p| p.slug() == slug)
    }

    /// The RFC 9457 `type`: relative, so it resolves against whichever host served it.
    pub fn uri(self) -> String {
        format!("/problems/{}", self.slug())
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The request field, dotted for nested objects (`enterprise.credit_code`).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A failure of `kind`, explained by `detail`.
    #[error("{detail}")]
    Problem { kind: ProblemType, detail: String },
    /// Invalid values (422), each named by its field.
    #[error("validation failed")]
    Invalid {
        kind: ProblemType,
        errors: Vec<FieldError>,
    },
    /// The path is routed, but not with this method (405); `allow` lists the methods it is.
    #[error("{detail}")]
    MethodNotAllowed { allow: Vec<Method>, detail: String },
    #[error("{detail}")]
    RateLimited {
        retry_after_seconds: u64,
        detail: String,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The problem+json body. Clients branch on `type`; `code` is its coarser class.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `/problems/<slug>`, relative to the API's host; each slug has a human page there.
    #[schema(example = "/problems/email-taken")]
    pub r#type: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[schema(example = "conflict")]
    pub code: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl AppError {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> AppError {
        AppError::Problem {
            kind,
            detail: detail.into(),
        }
    }

    pub fn validation(field: &str, message: impl Into<String>) -> AppError {
        AppError::invalid(ProblemType::Validation, field, message)
    }

    /// One invalid field whose failure has a type of its own (`weak-password`, …).
    pub fn invalid(kind: ProblemType, field: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            kind,
            errors: vec![FieldError::new(field, message)],
        }
    }

    /// The request's path is routed, with the methods `allow` only.
    pub fn method_not_allowed(req: &actix_web::HttpRequest, allow: Vec<Method>) -> AppError {
        AppError::MethodNotAllowed {
            detail: format!("{} is not allowed on {}", req.method(), req.path()),
            allow,
        }
    }

    pub fn not_found(what: &str) -> AppError {
        AppError::new(ProblemType::NotFound, format!("{what} not found"))
    }

    pub fn forbidden(detail: impl Into<String>) -> AppError {
        AppError::new(ProblemType::Forbidden, detail)
    }

    pub fn kind(&self) -> ProblemType {
        match self {
            AppError::Problem { kind, .. } | AppError::Invalid { kind, .. } => *kind,
            AppError::MethodNotAllowed { .. } => ProblemType::MethodNotAllowed,
            AppError::RateLimited { .. } => ProblemType::RateLimited,
            AppError::Internal(_) => ProblemType::Internal,
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    pub fn problem(&self) -> Problem {
        let (detail, errors) = match self {
            AppError::Invalid { errors, .. } => (
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                errors.clone(),
            ),
            // Internals stay in the log, keyed by the request id.
            AppError::Internal(_) => ("an unexpected error occurred".to_owned(), vec![]),
            other => (other.to_string(), vec![]),
        };
        let kind = self.kind();
        Problem {
            r#type: kind.uri(),
            title: kind.title().en.to_owned(),
            status: kind.status().as_u16(),
            detail: Some(detail),
            code: kind.code(),
            errors,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.kind().status()
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(e) = self {
            tracing::error!(error = ?e, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        if let AppError::RateLimited {
            retry_after_seconds,
            ..
        } = self
        {
            response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
        }
        if let AppError::MethodNotAllowed { allow, .. } = self {
            let allow: Vec<&str> = allow.iter().map(Method::as_str).collect();
            response.insert_header((header::ALLOW, allow.join(", ")));
        }
        if self.status_code() == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

/// The one mapping of the store's errors: a missing row is `not-found`, a unique violation
/// `duplicate` (use cases that know which value collided check first and say so), anything
/// else internal, its cause kept for the log.
impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            StoreError::Query(Error::NotFound) => AppError::new(ProblemType::NotFound, "not found"),
            StoreError::Query(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                AppError::new(
                    ProblemType::Duplicate,
                    "a record with these values already exists",
                )
            }
            other => AppError::Internal(anyhow::Error::new(other).context("database")),
        }
    }
}

/// For the statistics' own queries and the tests' direct SQL: the same mapping.
impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> AppError {
        StoreError::from(e).into()
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    const CODES: [(u16, &str); 13] = [
        (400, "bad_request"),
        (401, "unauthorized"),
        (403, "forbidden"),
        (404, "not_found"),
        (405, "method_not_allowed"),
        (409, "conflict"),
        (412, "precondition_failed"),
        (413, "payload_too_large"),
        (415, "unsupported_media_type"),
        (416, "range_not_satisfiable"),
        (422, "validation_failed"),
        (429, "rate_limited"),
        (500, "internal"),
    ];

    fn error_of(kind: ProblemType) -> AppError {
        match kind {
            ProblemType::RateLimited => AppError::RateLimited {
                retry_after_seconds: 3,
                detail: "x".into(),
            },
            ProblemType::Internal => AppError::Internal(anyhow::anyhow!("secret detail")),
            ProblemType::MethodNotAllowed => AppError::MethodNotAllowed {
                allow: vec![Method::GET, Method::HEAD],
                detail: "x".into(),
            },
            k if k.status() == StatusCode::UNPROCESSABLE_ENTITY => AppError::invalid(k, "f", "m"),
            k => AppError::new(k, "x"),
        }
    }

    #[test]
    fn every_problem_type_maps_to_its_type_status_and_contract_code() {
        let mut slugs = std::collections::HashSet::new();
        for &kind in ProblemType::ALL {
            let error = error_of(kind);
            assert_eq!(error.kind(), kind);
            let problem = error.problem();
            let status = kind.status().as_u16();
            assert_eq!(problem.status, status, "{kind:?}");
            assert_eq!(error.status_code().as_u16(), status, "{kind:?}");
            assert_eq!(
                CODES.iter().find(|(s, _)| *s == status).map(|(_, c)| *c),
                Some(problem.code),
                "{kind:?}: status and code class disagree"
            );
            assert_eq!(problem.r#type, format!("/problems/{}", kind.slug()));
            assert_eq!(problem.title, kind.title().en);
            assert_eq!(ProblemType::from_slug(kind.slug()), Some(kind));
            assert!(slugs.insert(kind.slug()), "{kind:?}: slug used twice");
            let slug_ok = kind
                .slug()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-');
            assert!(slug_ok, "{kind:?}: slug is not kebab-case");
            for text in [kind.title(), kind.todo()] {
                assert!(!text.en.is_empty() && !text.zh.is_empty(), "{kind:?}");
            }
        }
        assert_eq!(ProblemType::from_slug("no-such-problem"), None);
    }

    #[test]
    fn every_code_class_has_a_generic_problem_type() {
        for (status, code) in CODES {
            assert!(
                ProblemType::ALL
                    .iter()
                    .any(|k| k.status().as_u16() == status && k.code() == code),
                "{status} {code}"
            );
        }
    }

    #[test]
    fn unauthorized_rate_limited_and_405_answers_carry_their_headers() {
        for &kind in ProblemType::ALL {
            let response = error_of(kind).error_response();
            let challenge = response.headers().get(header::WWW_AUTHENTICATE);
            assert_eq!(
                challenge.is_some(),
                kind.status() == StatusCode::UNAUTHORIZED,
                "{kind:?}"
            );
            let retry = response.headers().get(header::RETRY_AFTER);
            assert_eq!(
                retry.is_some(),
                kind == ProblemType::RateLimited,
                "{kind:?}"
            );
            let allow = response.headers().get(header::ALLOW);
            match kind {
                ProblemType::MethodNotAllowed => assert_eq!(allow.unwrap(), "GET, HEAD"),
                _ => assert!(allow.is_none(), "{kind:?}"),
            }
        }
    }

    #[test]
    fn a_unique_violation_is_a_duplicate() {
        let e = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            Box::new("users_email_key".to_owned()),
        );
        assert_eq!(AppError::from(e).kind(), ProblemType::Duplicate);
        assert_eq!(
            AppError::from(diesel::result::Error::NotFound).kind(),
            ProblemType::NotFound
        );
    }

    #[test]
    fn internal_errors_do_not_leak() {
        let problem = AppError::Internal(anyhow::anyhow!("password=hunter2")).problem();
        assert!(!serde_json::to_string(&problem).unwrap().contains("hunter2"));
    }

    #[test]
    fn validation_lists_fields() {
        let problem = AppError::validation("credit_code", "bad check character").problem();
        assert_eq!(problem.errors[0].field, "credit_code");
        assert!(problem.detail.unwrap().contains("credit_code"));
    }
}
