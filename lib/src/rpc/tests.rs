use super::*;

const VECTOR_PK: &str = "05ffba630924aa1224bb930dde21c0d11bf004608f2812217f8ac812d6c7e3ad48";
const VECTOR_DATA: &str = concat!(
    "CAES1gIKA1BVVBIPL2FwaS92MS9tZXNzYWdlGrsCCAYovfqZv4YvQq8CVwutUBbhRzZw80TvR6uTYMKg9DSag",
    "rtpeEpY31L7VxawfS8aSya0SiDa4J025SkjP13YX8g5pxgQ8Z6hgfNArMqr/tSijJ9miVKVDJ63YWE85O8kyW",
    "F8tdtZR5j0Vxb+JH5U8Rg1bp7ftKk3OSf7JJMcrUUrDnctQHe540zJ2OTDJ03DfubkX5NmKqEu5nhXGxeeDv3",
    "mTiL63fjtCvZYcikfjf6Nh1AX++HTgJ9SGoEIMastGUorFrmmXb2sbjHxNiJn0Radj/VzcA9VxYwBW5+AbGQ2",
    "d9+vvm7X+8vh+jIenJfjxf+8CWER+9adNfb4YUH07I+godNCV0O0J05gzqfKdT7J8MBZzFBtKrbk8oCagPpTs",
    "q/wZyYFKFKKD+q+zh704dYBILvs5yXUA96pIAA="
);

#[test]
fn test_message_hash_spec_vector() {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.decode(VECTOR_DATA).unwrap();
    assert_eq!(data.len(), 347);
    let pk = crate::pubkey::Pubkey::parse(VECTOR_PK).unwrap();
    assert_eq!(message_hash(&pk, 0, &data), "4sMyAuaZlMwww3oFvfhazfw7ASx/7TDtO+TVc8aAjHs");
}
