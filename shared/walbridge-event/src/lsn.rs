//! PostgreSQL's write-ahead-log position, [`Lsn`], and its `X/X` text: read from wal2json rows,
//! checkpoints and the slot, printed in reports and record headers.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A PostgreSQL write-ahead-log position (`pg_lsn`), printed and parsed in PostgreSQL's `X/X` form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xffff_ffff)
    }
}

impl FromStr for Lsn {
    type Err = Error;

    /// Parses `16/B374D848`; each half is 1–8 hexadecimal digits, as `pg_lsn_in` accepts.
    fn from_str(s: &str) -> Result<Self, Error> {
        parse_lsn(s.as_bytes())
            .map(Lsn)
            .ok_or_else(|| Error::InvalidLsn(s.to_owned()))
    }
}

/// Hexadecimal digit values; 0xff for anything else.
static HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// 1–8 hexadecimal digits from `b[*i..]`, stopping at the first non-digit.
#[inline(always)]
pub(crate) fn lsn_half(b: &[u8], i: &mut usize) -> Option<u64> {
    let rest = b.get(*i..)?;
    let mut v = 0u64;
    let mut n = 0;
    for &c in rest.iter().take(9) {
        let d = HEX[usize::from(c)];
        if d > 15 {
            break;
        }
        v = (v << 4) | u64::from(d);
        n += 1;
    }
    if n == 0 || n > 8 {
        return None;
    }
    *i += n;
    Some(v)
}

/// `X/X` with 1–8 hexadecimal digits a half, the whole of `b`.
fn parse_lsn(b: &[u8]) -> Option<u64> {
    let mut i = 0;
    let hi = lsn_half(b, &mut i)?;
    if b.get(i) != Some(&b'/') {
        return None;
    }
    i += 1;
    let lo = lsn_half(b, &mut i)?;
    (i == b.len()).then_some((hi << 32) | lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsn_parses_and_prints_in_postgres_form() {
        let lsn: Lsn = "16/B374D848".parse().unwrap();
        assert_eq!(lsn, Lsn(0x16_B374_D848));
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert_eq!(Lsn(0).to_string(), "0/0");
        assert_eq!("0/1546140".parse::<Lsn>().unwrap(), Lsn(0x154_6140));
        assert_eq!("FFFFFFFF/FFFFFFFF".parse::<Lsn>().unwrap(), Lsn(u64::MAX));
    }

    #[test]
    fn malformed_lsns_are_rejected() {
        for bad in [
            "",
            "0",
            "/1",
            "1/",
            "G/1",
            "123456789/0",
            "1/2/3",
            "-1/0",
            "+1/0",
        ] {
            assert!(
                matches!(bad.parse::<Lsn>(), Err(Error::InvalidLsn(_))),
                "{bad}"
            );
        }
    }
}
