//! Decimal text as Connect's `Decimal` (base64 of the unscaled value's minimal two's complement),
//! Debezium's `VariableScaleDecimal` and Java's `BigDecimal` strings, with a fast path for values that
//! fit in 64 bits.

use std::borrow::Cow;

use crate::json::{write_base64, write_i64};

/// A decimal literal split into sign, integer digits and fraction digits (all ASCII digits).
pub(super) struct Decimal<'a> {
    pub(super) negative: bool,
    pub(super) int: Cow<'a, str>,
    pub(super) frac: Cow<'a, str>,
}

impl<'a> Decimal<'a> {
    /// `[-+]digits[.digits]`, as PostgreSQL's `numeric_out` prints (never an exponent).
    pub(super) fn parse(s: &'a str) -> Option<Self> {
        let (negative, rest) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
            return None;
        }
        Some(Decimal {
            negative,
            int: Cow::Borrowed(int),
            frac: Cow::Borrowed(frac),
        })
    }

    /// `money` output such as `$1,234.56` or `-$0.99`: the digits, the point and the sign.
    pub(super) fn parse_money(s: &str) -> Option<Decimal<'static>> {
        let negative = s.contains('-') || s.contains('(');
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let keep = |t: &str| t.chars().filter(char::is_ascii_digit).collect::<String>();
        let (int, frac) = (keep(int), keep(frac));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        Some(Decimal {
            negative,
            int: Cow::Owned(int),
            frac: Cow::Owned(frac),
        })
    }

    /// `BigDecimal.stripTrailingZeros()`, then scale 0 instead of a negative one (VariableScaleDecimal).
    pub(super) fn stripped(self) -> Self {
        let frac = match self.frac {
            Cow::Borrowed(f) => Cow::Borrowed(f.trim_end_matches('0')),
            Cow::Owned(f) => Cow::Owned(f.trim_end_matches('0').to_owned()),
        };
        Decimal { frac, ..self }
    }

    /// `BigDecimal.toPlainString()`: no leading zeros, no sign for zero.
    pub(super) fn plain(&self) -> String {
        let int = self.int.trim_start_matches('0');
        let zero = int.is_empty() && self.frac.bytes().all(|b| b == b'0');
        let mut s = String::with_capacity(self.int.len() + self.frac.len() + 3);
        if self.negative && !zero {
            s.push('-');
        }
        s.push_str(if int.is_empty() { "0" } else { int });
        if !self.frac.is_empty() {
            s.push('.');
            s.push_str(&self.frac);
        }
        s
    }

    fn digits(&self, pad: usize) -> impl Iterator<Item = u8> + '_ {
        self.int
            .bytes()
            .chain(self.frac.bytes())
            .chain(std::iter::repeat_n(b'0', pad))
            .map(|b| b - b'0')
    }

    /// Writes the unscaled value (digits with `pad` zeros appended) as base64 of Java's
    /// `BigInteger.toByteArray()`: minimal big-endian two's complement.
    pub(super) fn write_unscaled_base64(&self, out: &mut Vec<u8>, pad: usize) {
        let n = self.int.len() + self.frac.len() + pad;
        if n <= 38 {
            let mut mag: i128 = 0;
            for d in self.digits(pad) {
                mag = mag * 10 + i128::from(d);
            }
            let bytes = (if self.negative { -mag } else { mag }).to_be_bytes();
            write_base64(out, minimal_twos_complement(&bytes));
            return;
        }
        // Arbitrary precision: base-2^32 limbs, least significant first.
        let mut limbs: Vec<u32> = vec![0];
        for d in self.digits(pad) {
            let mut carry = u64::from(d);
            for limb in &mut limbs {
                let v = u64::from(*limb) * 10 + carry;
                *limb = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                limbs.push(carry as u32);
            }
        }
        let mut bytes = vec![0u8]; // room for the sign bit
        for limb in limbs.iter().rev() {
            bytes.extend_from_slice(&limb.to_be_bytes());
        }
        if self.negative {
            for b in &mut bytes {
                *b = !*b;
            }
            for b in bytes.iter_mut().rev() {
                let (v, overflow) = b.overflowing_add(1);
                *b = v;
                if !overflow {
                    break;
                }
            }
        }
        write_base64(out, minimal_twos_complement(&bytes));
    }

    /// Java's `BigDecimal.toString()` of this value at `scale`.
    pub(super) fn write_java_string(&self, out: &mut Vec<u8>, scale: usize) {
        let pad = scale - self.frac.len();
        let all: String = self
            .int
            .chars()
            .chain(self.frac.chars())
            .chain(std::iter::repeat_n('0', pad))
            .collect();
        let coeff = all.trim_start_matches('0');
        let coeff = if coeff.is_empty() { "0" } else { coeff };
        if self.negative && coeff != "0" {
            out.push(b'-');
        }
        let adjusted = coeff.len() as i64 - 1 - scale as i64;
        if adjusted >= -6 {
            if scale == 0 {
                out.extend_from_slice(coeff.as_bytes());
            } else if coeff.len() > scale {
                let (i, f) = coeff.split_at(coeff.len() - scale);
                out.extend_from_slice(i.as_bytes());
                out.push(b'.');
                out.extend_from_slice(f.as_bytes());
            } else {
                out.extend_from_slice(b"0.");
                out.extend(std::iter::repeat_n(b'0', scale - coeff.len()));
                out.extend_from_slice(coeff.as_bytes());
            }
        } else {
            let (first, rest) = coeff.split_at(1);
            out.extend_from_slice(first.as_bytes());
            if !rest.is_empty() {
                out.push(b'.');
                out.extend_from_slice(rest.as_bytes());
            }
            out.push(b'E');
            write_i64(out, adjusted);
        }
    }
}

/// The common case of a `Decimal` value: `[-+]digits[.digits]` with at most `scale` fraction digits and
/// at most 18 digits once scaled, written as [`Decimal::write_unscaled_base64`] would. False (nothing
/// written) for anything else, which the general path handles (or rejects).
#[inline]
pub(super) fn write_small_decimal(out: &mut Vec<u8>, text: &[u8], scale: u32) -> bool {
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut v = 0u64;
    let mut n = 0u32;
    let mut frac: Option<u32> = None;
    for &c in digits {
        if c == b'.' && frac.is_none() {
            frac = Some(n);
            continue;
        }
        let d = c.wrapping_sub(b'0');
        if d > 9 || n == 18 {
            return false;
        }
        v = v * 10 + u64::from(d);
        n += 1;
    }
    let frac = frac.map_or(0, |int| n - int);
    if n == 0 || frac > scale || n + (scale - frac) > 18 {
        return false;
    }
    let v = v * 10u64.pow(scale - frac);
    let v = if negative { -(v as i64) } else { v as i64 };
    write_base64_small(out, minimal_twos_complement(&v.to_be_bytes()));
    true
}

/// [`write_base64`] for at most 9 bytes, in one write.
#[inline]
fn write_base64_small(out: &mut Vec<u8>, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut buf = [0u8; 14];
    buf[0] = b'"';
    let mut len = 1;
    for chunk in bytes.chunks(3).take(3) {
        let b = |i: usize| chunk.get(i).copied().map_or(0, u32::from);
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        let sextet = |shift: u32| ALPHABET[((n >> shift) & 63) as usize];
        buf[len] = sextet(18);
        buf[len + 1] = sextet(12);
        buf[len + 2] = if chunk.len() > 1 { sextet(6) } else { b'=' };
        buf[len + 3] = if chunk.len() > 2 { sextet(0) } else { b'=' };
        len += 4;
    }
    buf[len] = b'"';
    out.extend_from_slice(&buf[..len + 1]);
}

/// Drops leading bytes that only repeat the sign, keeping at least one byte.
fn minimal_twos_complement(bytes: &[u8]) -> &[u8] {
    let mut i = 0;
    while i + 1 < bytes.len()
        && ((bytes[i] == 0 && bytes[i + 1] & 0x80 == 0)
            || (bytes[i] == 0xff && bytes[i + 1] & 0x80 != 0))
    {
        i += 1;
    }
    &bytes[i..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::test_support::*;
    use crate::convert::{Kind, TypeInfo};
    use crate::modes::{DecimalMode, TypeModes};
    use crate::wal2json::Value;

    #[test]
    fn decimals_are_big_endian_twos_complement_of_the_unscaled_value() {
        assert_eq!(dec(D12_2, "1234.50"), r#""AeI6""#);
        assert_eq!(dec(D12_2, "1000.00"), r#""AYag""#);
        assert_eq!(dec(D12_2, "0.01"), r#""AQ==""#);
        assert_eq!(dec(D12_2, "-1.00"), r#""nA==""#);
        assert_eq!(dec(D12_2, "0.00"), r#""AA==""#);
        assert_eq!(dec(D12_2, "1500.75"), r#""Ako7""#);
        assert_eq!(dec(D12_2, "-20.00"), r#""+DA=""#);
        // a value printed with fewer fraction digits than the scale is rescaled
        assert_eq!(dec(D12_2, "1234.5"), r#""AeI6""#);
        // 128 needs a leading zero byte so the sign bit stays clear; -128 does not
        let d0 = Kind::Decimal {
            precision: 5,
            scale: 0,
        };
        assert_eq!(dec(d0, "128"), r#""AIA=""#);
        assert_eq!(dec(d0, "-128"), r#""gA==""#);
        assert_eq!(dec(d0, "-129"), r#""/38=""#);
    }

    #[test]
    fn decimals_beyond_128_bits_match_the_small_path_rules() {
        let d10 = Kind::Decimal {
            precision: 30,
            scale: 10,
        };
        assert_eq!(dec(d10, "-0.0000000001"), r#""/w==""#);
        // 2^130 = 1361129467683753853853498429727072845824
        let d0 = Kind::Decimal {
            precision: 50,
            scale: 0,
        };
        assert_eq!(
            dec(d0, "1361129467683753853853498429727072845824"),
            r#""BAAAAAAAAAAAAAAAAAAAAAA=""#
        );
        assert_eq!(
            dec(d0, "-1361129467683753853853498429727072845824"),
            r#""/AAAAAAAAAAAAAAAAAAAAAA=""#
        );
        assert_eq!(dec(d0, "1"), r#""AQ==""#);
    }

    #[test]
    fn unconstrained_numeric_is_a_variable_scale_decimal() {
        assert_eq!(
            dec(Kind::VarDecimal, "123456789012345678901234567890.5"),
            r#"{"scale":1,"value":"D5Uan6OihslPDnZsOQ=="}"#
        );
        assert_eq!(
            dec(Kind::VarDecimal, "0.00000000000000000001"),
            r#"{"scale":20,"value":"AQ=="}"#
        );
        assert_eq!(dec(Kind::VarDecimal, "7"), r#"{"scale":0,"value":"Bw=="}"#);
    }

    #[test]
    fn money_is_a_scale_2_decimal() {
        assert_eq!(enc(Kind::Money, s("$99.99")), r#""Jw8=""#);
        assert_eq!(enc(Kind::Money, s("$12.34")), r#""BNI=""#);
        assert_eq!(
            enc(Kind::Money, s("-$1,000.00")),
            enc(Kind::Money, s("-$1000.00"))
        );
    }

    #[test]
    fn key_decimals_print_like_java_bigdecimal_in_headers() {
        let mut out = Vec::new();
        for n in ["1500.75", "0.01", "-20.00", "0.00"] {
            D12_2
                .write_header_value(&mut out, &Value::Number(n))
                .unwrap();
            out.push(b' ');
        }
        let d10 = Kind::Decimal {
            precision: 30,
            scale: 10,
        };
        d10.write_header_value(&mut out, &Value::Number("0.0000000001"))
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1500.75 0.01 -20.00 0.00 1E-10"
        );
    }

    #[test]
    fn numerics_in_every_decimal_mode() {
        // numeric(5,-2): Debezium reads the scale's 11 bits as 2046
        assert_eq!(
            classify(1700, "numeric(5,-2)"),
            Kind::Decimal {
                precision: 5,
                scale: 2046
            }
        );
        assert_eq!(
            enc(Kind::VarDecimal, s("1.50")),
            r#"{"scale":1,"value":"Dw=="}"#
        );
        assert_eq!(
            enc(Kind::VarDecimal, s("0.000")),
            r#"{"scale":0,"value":"AA=="}"#
        );
        assert_eq!(
            enc(Kind::VarDecimal, s("-100")),
            r#"{"scale":0,"value":"nA=="}"#
        );
        let string = |name| {
            let modes = TypeModes {
                decimal: DecimalMode::String,
                ..TypeModes::default()
            };
            Kind::classify(1700, name, TypeInfo::default(), &modes)
        };
        assert_eq!(enc(string("numeric(10,2)"), s("0")), r#""0.00""#);
        assert_eq!(enc(string("numeric"), s("-0.0100")), r#""-0.0100""#);
        assert_eq!(
            Kind::DecimalString {
                money: true,
                scale: Some(2)
            }
            .fallback()
            .as_ref(),
            br#""0.00""#
        );
        assert_eq!(
            enc(
                Kind::DecimalString {
                    money: true,
                    scale: Some(2)
                },
                s("-$1,234.50")
            ),
            r#""-1234.50""#
        );
        assert_eq!(enc(Kind::MoneyDouble, s("$12.34")), "12.34");
    }

    /// What the general decimal path writes (or that it rejects the text).
    fn general_decimal(text: &str, scale: u32) -> Option<Vec<u8>> {
        let d = Decimal::parse(text)?;
        if d.frac.len() > scale as usize {
            return None;
        }
        let mut out = Vec::new();
        d.write_unscaled_base64(&mut out, scale as usize - d.frac.len());
        Some(out)
    }

    #[test]
    fn the_small_decimal_fast_path_agrees_with_the_general_path() {
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "+0",
            "0.00",
            "-0.00",
            "1.25",
            "-1.25",
            "1.2",
            "1.",
            ".5",
            "-.5",
            ".",
            "-",
            "",
            "+",
            "1.2.3",
            "1e5",
            "12a",
            "--1",
            "127",
            "128",
            "-128",
            "-129",
            "255",
            "256",
            "32767",
            "32768",
            "-32768",
            "-32769",
            "999999999999999999",
            "1000000000000000000",
            "-999999999999999999",
            "9223372036854775807",
            "-9223372036854775808",
            "123456789012345678.9",
            "0.000000000000000001",
            "00001.10",
            "1500.75",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 20) as usize + 1;
            let mut t: String = x.to_string().chars().cycle().take(digits).collect();
            if x & 1 == 1 {
                t.insert((x >> 8) as usize % (t.len() + 1), '.');
            }
            if x & 2 == 2 {
                t.insert(0, '-');
            }
            texts.push(t);
        }
        for text in &texts {
            for scale in [0, 1, 2, 3, 5, 10, 17, 18, 19, 30] {
                let mut out = Vec::new();
                let fast = write_small_decimal(&mut out, text.as_bytes(), scale).then_some(out);
                if let Some(fast) = &fast {
                    assert_eq!(
                        Some(fast),
                        general_decimal(text, scale).as_ref(),
                        "{text} {scale}"
                    );
                }
                let mut out = Vec::new();
                let kind = Kind::Decimal {
                    precision: 38,
                    scale,
                };
                let via_kind = kind
                    .write_value(&mut out, &Value::Number(text))
                    .ok()
                    .map(|()| out);
                assert_eq!(via_kind, general_decimal(text, scale), "{text} {scale}");
            }
        }
    }

    #[test]
    fn small_base64_matches_the_engine() {
        let data: Vec<u8> = (0..=255u8).rev().collect();
        for len in 0..=9 {
            for start in 0..64 {
                let bytes = &data[start..start + len];
                let (mut fast, mut engine) = (Vec::new(), Vec::new());
                write_base64_small(&mut fast, bytes);
                write_base64(&mut engine, bytes);
                assert_eq!(fast, engine, "{bytes:?}");
            }
        }
    }
}
