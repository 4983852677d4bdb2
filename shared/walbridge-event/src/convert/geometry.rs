//! PostgreSQL's geometric types as Debezium 3.7 represents them: `point` as
//! `io.debezium.data.geometry.Point` (x, y and their WKB), `box`, `lseg`, `path` and `polygon` as
//! `io.debezium.data.geometry.Geometry` v2 (WKB, no SRID, the PostgreSQL type in `extensions`),
//! `circle` as `…Circle` (a center Point and a radius) and `line` as `…Line` (`{a,b,c}` of
//! `Ax + By + C = 0`). The input is the types' text output, as wal2json and pgoutput carry it.

use super::java::write_java_float;
use crate::json::{write_base64, write_str};

/// A geometric type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Geo {
    Point,
    Box,
    Lseg,
    Path,
    Polygon,
    Circle,
    Line,
}

const POINT_FIELDS: &[u8] = br#""fields":[{"type":"double","optional":false,"field":"x"},{"type":"double","optional":false,"field":"y"},{"type":"bytes","optional":true,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"}]"#;
const POINT_NAME: &[u8] =
    br#""name":"io.debezium.data.geometry.Point","version":1,"doc":"Geometry (POINT)""#;

/// WKB geometry type codes.
const WKB_POINT: u32 = 1;
const WKB_LINESTRING: u32 = 2;
const WKB_POLYGON: u32 = 3;

impl Geo {
    /// The geometric type of a type oid.
    pub(crate) fn of_oid(oid: u32) -> Option<Geo> {
        Some(match oid {
            600 => Geo::Point,
            601 => Geo::Lseg,
            602 => Geo::Path,
            603 => Geo::Box,
            604 => Geo::Polygon,
            628 => Geo::Line,
            718 => Geo::Circle,
            _ => return None,
        })
    }

    /// The PostgreSQL type name, as `extensions.type` carries it.
    fn pg_name(self) -> &'static str {
        match self {
            Geo::Point => "point",
            Geo::Box => "box",
            Geo::Lseg => "lseg",
            Geo::Path => "path",
            Geo::Polygon => "polygon",
            Geo::Circle => "circle",
            Geo::Line => "line",
        }
    }

    /// What Debezium 3.7 writes for a NOT NULL column of this type that a delete's `before` does
    /// not carry (REPLICA IDENTITY DEFAULT): its converter's empty value.
    pub(crate) fn fallback(self) -> &'static [u8] {
        match self {
            Geo::Point => br#"{"x":0.0,"y":0.0,"wkb":"AQEAAAAAAAAAAAAAAAAAAAAAAAAA","srid":null}"#,
            // the ring (0,0) (0,1) (1,1) (1,0) (0,0)
            Geo::Box => {
                br#"{"wkb":"AQMAAAABAAAABQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPA/AAAAAAAA8D8AAAAAAADwPwAAAAAAAPA/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","srid":null,"extensions":{"type":"box"}}"#
            }
            // (0,0) (1,0), and no `closed`
            Geo::Path => {
                br#"{"wkb":"AQIAAAACAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPA/AAAAAAAAAAA=","srid":null,"extensions":{"type":"path"}}"#
            }
            Geo::Circle => {
                br#"{"center":{"x":0.0,"y":0.0,"wkb":"AQEAAAAAAAAAAAAAAAAAAAAAAAAA","srid":null},"radius":0.0}"#
            }
            Geo::Line => br#"{"a":0.0,"b":1.0,"c":0.0}"#,
            // (0,0) (1,0)
            Geo::Lseg => {
                br#"{"wkb":"AQIAAAACAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPA/AAAAAAAAAAA=","srid":null,"extensions":{"type":"lseg"}}"#
            }
            // the ring (0,0) (1,0) (0,1) (0,0)
            Geo::Polygon => {
                br#"{"wkb":"AQMAAAABAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAADwPwAAAAAAAAAAAAAAAAAAAAAAAAAAAADwPwAAAAAAAAAAAAAAAAAAAAA=","srid":null,"extensions":{"type":"polygon"}}"#
            }
        }
    }

    /// Writes the field schema (JsonConverter's key order); `field` is the field name when it is one.
    pub(crate) fn write_schema(self, out: &mut Vec<u8>, optional: bool, field: Option<&str>) {
        // Debezium 3.7 declares every geometric struct but Point optional, NOT NULL or not
        let optional = optional || self != Geo::Point;
        out.extend_from_slice(b"{\"type\":\"struct\",");
        let (fields, name): (&[u8], &[u8]) = match self {
            Geo::Point => (POINT_FIELDS, POINT_NAME),
            Geo::Box | Geo::Lseg | Geo::Path | Geo::Polygon => (
                br#""fields":[{"type":"bytes","optional":false,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"},{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"string","optional":false},"optional":true,"field":"extensions"}]"#,
                br#""name":"io.debezium.data.geometry.Geometry","version":2,"doc":"Geometry""#,
            ),
            Geo::Circle => {
                out.extend_from_slice(b"\"fields\":[{\"type\":\"struct\",");
                out.extend_from_slice(POINT_FIELDS);
                out.extend_from_slice(b",\"optional\":false,");
                out.extend_from_slice(POINT_NAME);
                out.extend_from_slice(
                    br#","field":"center"},{"type":"double","optional":false,"field":"radius"}]"#,
                );
                (
                    b"",
                    br#""name":"io.debezium.data.geometry.Circle","version":1,"doc":"Geometry (CIRCLE)""#,
                )
            }
            Geo::Line => (
                br#""fields":[{"type":"double","optional":false,"field":"a"},{"type":"double","optional":false,"field":"b"},{"type":"double","optional":false,"field":"c"}]"#,
                br#""name":"io.debezium.data.geometry.Line","version":1,"doc":"Geometry (LINE)""#,
            ),
        };
        out.extend_from_slice(fields);
        out.extend_from_slice(if optional {
            b",\"optional\":true,"
        } else {
            b",\"optional\":false,"
        });
        out.extend_from_slice(name);
        if let Some(field) = field {
            out.extend_from_slice(b",\"field\":");
            write_str(out, field);
        }
        out.push(b'}');
    }

    /// Writes the payload of a value in the type's text output.
    ///
    /// # Errors
    /// A short reason when the text is not one of the type.
    pub(crate) fn write_value(self, out: &mut Vec<u8>, text: &str) -> Result<(), &'static str> {
        let numbers = numbers(text).ok_or("not a geometric value")?;
        let points = |min: usize| -> Result<Vec<(f64, f64)>, &'static str> {
            if numbers.len() % 2 != 0 || numbers.len() < 2 * min {
                return Err("not a geometric value");
            }
            Ok(numbers.chunks(2).map(|p| (p[0], p[1])).collect())
        };
        match self {
            Geo::Point => {
                let [x, y] = numbers[..] else {
                    return Err("not a point");
                };
                write_point(out, x, y);
            }
            Geo::Circle => {
                let [x, y, r] = numbers[..] else {
                    return Err("not a circle");
                };
                out.extend_from_slice(b"{\"center\":");
                write_point(out, x, y);
                out.extend_from_slice(b",\"radius\":");
                write_java_float(out, r, None);
                out.push(b'}');
            }
            Geo::Line => {
                let [a, b, c] = numbers[..] else {
                    return Err("not a line");
                };
                for (i, (name, v)) in [("a", a), ("b", b), ("c", c)].into_iter().enumerate() {
                    out.extend_from_slice(if i == 0 { b"{\"" } else { b",\"" });
                    out.extend_from_slice(name.as_bytes());
                    out.extend_from_slice(b"\":");
                    write_java_float(out, v, None);
                }
                out.push(b'}');
            }
            Geo::Box => {
                // the text is the upper right corner, then the lower left: a closed ring from the
                // upper right, clockwise
                let [(hx, hy), (lx, ly)] = points(2)?[..] else {
                    return Err("not a box");
                };
                let ring = [(hx, hy), (hx, ly), (lx, ly), (lx, hy), (hx, hy)];
                write_geometry(out, &wkb(WKB_POLYGON, &ring), self, None);
            }
            Geo::Lseg => {
                let segment = points(2)?;
                if segment.len() != 2 {
                    return Err("not a line segment");
                }
                write_geometry(out, &wkb(WKB_LINESTRING, &segment), self, None);
            }
            Geo::Path => {
                let path = points(1)?;
                // `(…)` is a closed path, `[…]` an open one; the WKB repeats no point either way
                let closed = text.trim_start().starts_with('(');
                write_geometry(out, &wkb(WKB_LINESTRING, &path), self, Some(closed));
            }
            Geo::Polygon => {
                let mut ring = points(1)?;
                ring.push(ring[0]);
                write_geometry(out, &wkb(WKB_POLYGON, &ring), self, None);
            }
        }
        Ok(())
    }
}

/// Every number of a geometric text (`((0,0),(1,1))`, `<(1,2),3>`, `{1,-1,0}`), in order.
fn numbers(text: &str) -> Option<Vec<f64>> {
    text.split(|c: char| "()[]<>{},".contains(c))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().ok())
        .collect()
}

/// Little-endian WKB: a point, a line string of `points`, or a polygon of one ring of `points`.
fn wkb(kind: u32, points: &[(f64, f64)]) -> Vec<u8> {
    let mut out = vec![1];
    out.extend_from_slice(&kind.to_le_bytes());
    if kind == WKB_POLYGON {
        out.extend_from_slice(&1u32.to_le_bytes());
    }
    if kind != WKB_POINT {
        out.extend_from_slice(&(points.len() as u32).to_le_bytes());
    }
    for (x, y) in points {
        out.extend_from_slice(&x.to_le_bytes());
        out.extend_from_slice(&y.to_le_bytes());
    }
    out
}

fn write_point(out: &mut Vec<u8>, x: f64, y: f64) {
    out.extend_from_slice(b"{\"x\":");
    write_java_float(out, x, None);
    out.extend_from_slice(b",\"y\":");
    write_java_float(out, y, None);
    out.extend_from_slice(b",\"wkb\":");
    write_base64(out, &wkb(WKB_POINT, &[(x, y)]));
    out.extend_from_slice(b",\"srid\":null}");
}

fn write_geometry(out: &mut Vec<u8>, wkb: &[u8], geo: Geo, closed: Option<bool>) {
    out.extend_from_slice(b"{\"wkb\":");
    write_base64(out, wkb);
    out.extend_from_slice(b",\"srid\":null,\"extensions\":{\"type\":\"");
    out.extend_from_slice(geo.pg_name().as_bytes());
    out.push(b'"');
    if let Some(closed) = closed {
        out.extend_from_slice(if closed {
            b",\"closed\":\"true\""
        } else {
            b",\"closed\":\"false\""
        });
    }
    out.extend_from_slice(b"}}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(geo: Geo, text: &str) -> String {
        let mut out = Vec::new();
        geo.write_value(&mut out, text).unwrap();
        String::from_utf8(out).unwrap()
    }

    // Expected payloads: what Debezium 3.7.1 wrote for the same values (schemas off).
    #[test]
    fn geometric_values_are_debeziums() {
        assert_eq!(
            value(Geo::Point, "(1.5,-2)"),
            r#"{"x":1.5,"y":-2.0,"wkb":"AQEAAAAAAAAAAAD4PwAAAAAAAADA","srid":null}"#
        );
        assert_eq!(
            value(Geo::Box, "(1,1),(0,0)"),
            r#"{"wkb":"AQMAAAABAAAABQAAAAAAAAAAAPA/AAAAAAAA8D8AAAAAAADwPwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA8D8AAAAAAADwPwAAAAAAAPA/","srid":null,"extensions":{"type":"box"}}"#
        );
        assert_eq!(
            value(Geo::Lseg, "[(0,0),(1,2)]"),
            r#"{"wkb":"AQIAAAACAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPA/AAAAAAAAAEA=","srid":null,"extensions":{"type":"lseg"}}"#
        );
        assert_eq!(
            value(Geo::Path, "[(0,0),(1,1),(2,0)]"),
            r#"{"wkb":"AQIAAAADAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPA/AAAAAAAA8D8AAAAAAAAAQAAAAAAAAAAA","srid":null,"extensions":{"type":"path","closed":"false"}}"#
        );
        assert_eq!(
            value(Geo::Path, "((0,0),(1,1))"),
            r#"{"wkb":"AQIAAAACAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPA/AAAAAAAA8D8=","srid":null,"extensions":{"type":"path","closed":"true"}}"#
        );
        assert_eq!(
            value(Geo::Polygon, "((0,0),(1,1),(1,0))"),
            r#"{"wkb":"AQMAAAABAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAADwPwAAAAAAAPA/AAAAAAAA8D8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","srid":null,"extensions":{"type":"polygon"}}"#
        );
        assert_eq!(
            value(Geo::Circle, "<(1,2),3>"),
            r#"{"center":{"x":1.0,"y":2.0,"wkb":"AQEAAAAAAAAAAADwPwAAAAAAAABA","srid":null},"radius":3.0}"#
        );
        assert_eq!(
            value(Geo::Line, "{1,-1,0}"),
            r#"{"a":1.0,"b":-1.0,"c":0.0}"#
        );
        let mut out = Vec::new();
        assert!(Geo::Point.write_value(&mut out, "(1,2,3)").is_err());
        assert!(Geo::Box.write_value(&mut out, "(1,x),(0,0)").is_err());
    }

    #[test]
    fn not_null_fallbacks_are_well_formed_values() {
        for geo in [
            Geo::Point,
            Geo::Box,
            Geo::Lseg,
            Geo::Path,
            Geo::Polygon,
            Geo::Circle,
            Geo::Line,
        ] {
            let text = std::str::from_utf8(geo.fallback()).unwrap();
            assert!(
                serde_json::from_str::<serde_json::Value>(text).is_ok(),
                "{text}"
            );
        }
        // the box fallback is the unit square written from (0,0), not from its upper corner
        let mut out = Vec::new();
        Geo::Box.write_value(&mut out, "(1,1),(0,0)").unwrap();
        assert_ne!(out, Geo::Box.fallback());
    }

    #[test]
    fn geometric_schemas_are_debeziums() {
        let schema = |geo: Geo| {
            let mut out = Vec::new();
            geo.write_schema(&mut out, true, Some("g"));
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            schema(Geo::Point),
            r#"{"type":"struct","fields":[{"type":"double","optional":false,"field":"x"},{"type":"double","optional":false,"field":"y"},{"type":"bytes","optional":true,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"}],"optional":true,"name":"io.debezium.data.geometry.Point","version":1,"doc":"Geometry (POINT)","field":"g"}"#
        );
        assert_eq!(
            schema(Geo::Path),
            r#"{"type":"struct","fields":[{"type":"bytes","optional":false,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"},{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"string","optional":false},"optional":true,"field":"extensions"}],"optional":true,"name":"io.debezium.data.geometry.Geometry","version":2,"doc":"Geometry","field":"g"}"#
        );
        assert_eq!(
            schema(Geo::Circle),
            r#"{"type":"struct","fields":[{"type":"struct","fields":[{"type":"double","optional":false,"field":"x"},{"type":"double","optional":false,"field":"y"},{"type":"bytes","optional":true,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"}],"optional":false,"name":"io.debezium.data.geometry.Point","version":1,"doc":"Geometry (POINT)","field":"center"},{"type":"double","optional":false,"field":"radius"}],"optional":true,"name":"io.debezium.data.geometry.Circle","version":1,"doc":"Geometry (CIRCLE)","field":"g"}"#
        );
        // NOT NULL: only Point says so
        let mut out = Vec::new();
        Geo::Box.write_schema(&mut out, false, None);
        assert!(
            String::from_utf8(out)
                .unwrap()
                .contains(r#"],"optional":true,"name""#)
        );
        let mut out = Vec::new();
        Geo::Point.write_schema(&mut out, false, None);
        assert!(
            String::from_utf8(out)
                .unwrap()
                .contains(r#"],"optional":false,"name""#)
        );
        assert_eq!(
            schema(Geo::Line),
            r#"{"type":"struct","fields":[{"type":"double","optional":false,"field":"a"},{"type":"double","optional":false,"field":"b"},{"type":"double","optional":false,"field":"c"}],"optional":true,"name":"io.debezium.data.geometry.Line","version":1,"doc":"Geometry (LINE)","field":"g"}"#
        );
    }
}
