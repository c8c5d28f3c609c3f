//! The vocabulary of a seeded district: its bureaux and their matters, people's names, places
//! and trades, and valid credit codes.

use rand::Rng;
use rand::rngs::StdRng;

use crate::domain::credit_code::CreditCode;
use crate::error::{AppError, AppResult};

/// Departments with their categories and each category's SLA in hours.
pub const DEPARTMENTS: [(&str, [(&str, i32); 3]); 8] = [
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
pub const PLACES: [&str; 8] = [
    "西湖", "滨江", "钱塘", "余杭", "萧山", "临平", "上城", "拱墅",
];
/// A trade word for the enterprise's name, with its industry.
pub const TRADES: [(&str, &str); 6] = [
    ("科技", "软件和信息技术服务业"),
    ("制造", "通用设备制造业"),
    ("贸易", "批发业"),
    ("餐饮", "餐饮业"),
    ("建筑", "房屋建筑业"),
    ("生物医药", "医药制造业"),
];
pub const ASKS: [&str; 6] = [
    "办理进度咨询",
    "材料补正问题",
    "系统无法提交",
    "政策适用咨询",
    "现场核查预约",
    "办理时限过长",
];

/// A random (seeded) 128-bit id, in the app's 32-hex-digit form.
pub fn id(rng: &mut StdRng) -> String {
    format!("{:032x}", rng.random::<u128>())
}

/// An id that sorts like the app's UUIDv7 ids: by time, then by `seq`, so a ticket's events
/// stamped in the same instant (filing and routing) keep their order in the timeline.
pub fn ordered_id(rng: &mut StdRng, at: chrono::NaiveDateTime, seq: usize) -> String {
    let millis = at.and_utc().timestamp_millis().max(0) as u64 & 0xffff_ffff_ffff;
    format!(
        "{millis:012x}{:04x}{:016x}",
        seq & 0xffff,
        rng.random::<u64>()
    )
}

pub fn person(rng: &mut StdRng) -> String {
    format!(
        "{}{}",
        SURNAMES[rng.random_range(0..SURNAMES.len())],
        GIVEN[rng.random_range(0..GIVEN.len())]
    )
}

/// A valid unified social credit code, unique per `n`: the organisation code is `n` in the
/// standard's alphabet, and the check character is computed as GB 32100-2015 specifies.
pub fn credit_code(n: u64) -> AppResult<String> {
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
}
