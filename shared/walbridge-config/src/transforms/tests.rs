use super::parse::*;
use super::*;
use crate::pattern::{java_pattern, java_replacement};
use crate::properties::Properties;

fn props(pairs: &[(&str, &str)]) -> Properties {
    let mut props = Properties::default();
    for (k, v) in pairs {
        props.set(k, v);
    }
    props
}

fn parse(pairs: &[(&str, &str)]) -> (Vec<Transform>, Vec<String>) {
    let mut errors = Vec::new();
    let chain = chain(&props(pairs), &mut errors);
    (chain, errors.iter().map(ToString::to_string).collect())
}

#[test]
fn replacements_are_translated_from_java() {
    let regex = java_pattern("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)").unwrap();
    assert_eq!(java_replacement("x$1y", &regex).unwrap(), "x${1}y");
    assert_eq!(java_replacement("$11", &regex).unwrap(), "${11}");
    assert_eq!(java_replacement("\\$1", &regex).unwrap(), "$$1");
    let two = java_pattern("(a)(?<rest>b)").unwrap();
    assert_eq!(java_replacement("$12", &two).unwrap(), "${1}2");
    assert_eq!(java_replacement("${rest}", &two).unwrap(), "${rest}");
    assert!(java_replacement("$3", &two).is_err());
    assert!(java_replacement("${nope}", &two).is_err());
    assert!(java_replacement("a$", &two).is_err());
    let route = TopicRoute {
        replacement: java_replacement("merged.$1", &two).unwrap(),
        regex: java_pattern("(p)\\.(?<rest>.*)").unwrap(),
    };
    assert_eq!(route.route("p.orders").as_deref(), Some("merged.p"));
    assert_eq!(route.route("q.orders"), None);
}

#[test]
fn field_references_resolve_as_debeziums() {
    let of = |s| FieldReference::parse(s, "__");
    assert_eq!(of("op").within, None);
    assert_eq!(of("op").new_name, "__op");
    assert_eq!(of("table").within.as_deref(), Some("source"));
    assert_eq!(of("id").within.as_deref(), Some("transaction"));
    assert_eq!(of("source.ts_ms").new_name, "__source_ts_ms");
    assert_eq!(of("source.ts_ms:when").new_name, "__when");
    assert_eq!(of("lsn:pos").new_name, "__pos");
}

#[test]
fn the_chain_is_read_in_order_with_its_predicates() {
    let (chain, errors) = parse(&[
        ("transforms", "unwrap, route"),
        ("transforms.unwrap.type", EXTRACT_NEW_RECORD_STATE),
        (
            "transforms.unwrap.delete.tombstone.handling.mode",
            "Rewrite",
        ),
        ("transforms.unwrap.add.fields", "op,source.ts_ms"),
        ("transforms.route.type", REGEX_ROUTER),
        ("transforms.route.regex", "db\\.public\\.(.*)"),
        ("transforms.route.replacement", "$1"),
        ("transforms.route.predicate", "orders"),
        ("transforms.route.negate", "true"),
        ("predicates", "orders"),
        ("predicates.orders.type", TOPIC_NAME_MATCHES),
        ("predicates.orders.pattern", ".*orders"),
    ]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(chain.len(), 2);
    let TransformKind::ExtractNewRecordState(unwrap) = &chain[0].kind else {
        panic!("{chain:?}")
    };
    assert_eq!(unwrap.delete_handling, DeleteHandling::Rewrite);
    assert_eq!(unwrap.add_fields.len(), 2);
    assert!(chain[1].negate);
    assert!(matches!(
        chain[1].predicate,
        Some(Predicate::TopicNameMatches(_))
    ));
}

#[test]
fn cast_and_header_from_specs_are_read_as_connects_and_bad_ones_refused() {
    let (chain, errors) = parse(&[
        ("transforms", "whole,fields,headers,hoist"),
        (
            "transforms.whole.type",
            "org.apache.kafka.connect.transforms.Cast$Key",
        ),
        ("transforms.whole.spec", "INT32"),
        (
            "transforms.fields.type",
            "org.apache.kafka.connect.transforms.Cast$Value",
        ),
        ("transforms.fields.spec", "a:int8, b:String"),
        ("transforms.fields.replace.null.with.default", "false"),
        (
            "transforms.headers.type",
            "org.apache.kafka.connect.transforms.HeaderFrom$Value",
        ),
        ("transforms.headers.fields", "a,b"),
        ("transforms.headers.headers", "x,y"),
        ("transforms.headers.operation", "move"),
        (
            "transforms.hoist.type",
            "org.apache.kafka.connect.transforms.HoistField$Value",
        ),
        ("transforms.hoist.field", "wrapped"),
    ]);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(matches!(
        &chain[0].kind,
        TransformKind::Cast(
            Part::Key,
            Cast {
                spec: CastSpec::Whole(CastType::Int32),
                replace_null_with_default: true
            }
        )
    ));
    let TransformKind::Cast(Part::Value, fields) = &chain[1].kind else {
        panic!("{chain:?}")
    };
    assert!(!fields.replace_null_with_default);
    assert!(matches!(&fields.spec, CastSpec::Fields(f)
        if f == &[("a".to_owned(), CastType::Int8), ("b".to_owned(), CastType::String)]));
    let TransformKind::HeaderFrom(Part::Value, headers) = &chain[2].kind else {
        panic!("{chain:?}")
    };
    assert!(headers.moves);
    assert_eq!(headers.fields[1], ("b".to_owned(), "y".to_owned()));
    assert!(matches!(&chain[3].kind, TransformKind::HoistField(Part::Value, f) if f == "wrapped"));

    for (key, value, expected) in [
        ("spec", "a:bytes", "casts to int8"),
        ("spec", "int8,a:int16", "only entry"),
        ("spec", "a:b:int8", "one field:type pair"),
    ] {
        let key = format!("transforms.c.{key}");
        let (_, errors) = parse(&[
            ("transforms", "c"),
            (
                "transforms.c.type",
                "org.apache.kafka.connect.transforms.Cast$Value",
            ),
            (key.as_str(), value),
        ]);
        let all = errors.join("\n");
        assert!(
            all.contains(&key) && all.contains(expected),
            "{value}: {all}"
        );
    }
    for (fields, headers, operation) in [("a,b", "x", "copy"), ("a", "x", "rename")] {
        let (_, errors) = parse(&[
            ("transforms", "h"),
            (
                "transforms.h.type",
                "org.apache.kafka.connect.transforms.HeaderFrom$Key",
            ),
            ("transforms.h.fields", fields),
            ("transforms.h.headers", headers),
            ("transforms.h.operation", operation),
        ]);
        assert_eq!(errors.len(), 1, "{errors:?}");
    }
}

#[test]
fn destinations_follow_the_routers_by_topic_name() {
    let (chain, errors) = parse(&[
        ("transforms", "skip,route,merge,outbox"),
        ("transforms.skip.type", FILTER),
        ("transforms.skip.predicate", "audit"),
        ("transforms.route.type", REGEX_ROUTER),
        ("transforms.route.regex", "p\\.s\\.(.*)"),
        ("transforms.route.replacement", "q.$1"),
        ("transforms.merge.type", BY_LOGICAL_TABLE_ROUTER),
        ("transforms.merge.topic.regex", "q\\.part_.*"),
        ("transforms.merge.topic.replacement", "q.parts"),
        ("transforms.outbox.type", EVENT_ROUTER),
        ("transforms.outbox.predicate", "outbox"),
        ("predicates", "audit,outbox"),
        ("predicates.audit.type", TOPIC_NAME_MATCHES),
        ("predicates.audit.pattern", ".*\\.audit"),
        ("predicates.outbox.type", TOPIC_NAME_MATCHES),
        ("predicates.outbox.pattern", ".*\\.outbox"),
    ]);
    assert!(errors.is_empty(), "{errors:?}");
    let topic = |t: &str| Destination::Topic(t.to_owned());
    assert_eq!(destination(&chain, "p.s.t"), topic("q.t"));
    assert_eq!(destination(&chain, "p.s.part_1"), topic("q.parts"));
    assert_eq!(destination(&chain, "p.s.audit"), Destination::Dropped);
    assert_eq!(
        destination(&chain, "p.s.outbox"),
        Destination::ByContent("outbox".to_owned())
    );
    assert_eq!(destination(&chain, "other"), topic("other"));
    assert_eq!(destination(&[], "p.s.t"), topic("p.s.t"));
}

#[test]
fn what_walbridge_does_not_implement_is_an_error_naming_it() {
    let (_, errors) = parse(&[
        ("transforms", "mask,unwrap,route"),
        ("transforms.mask.type", "com.acme.MaskCreditCards"),
        ("transforms.unwrap.type", EXTRACT_NEW_RECORD_STATE),
        ("transforms.unwrap.drop.tombstones", "false"),
        ("transforms.route.type", REGEX_ROUTER),
        ("transforms.route.regex", "(?<=a)b"),
        ("transforms.route.replacement", "x"),
        ("transforms.typo.type", FILTER),
    ]);
    let all = errors.join("\n");
    assert!(all.contains("com.acme.MaskCreditCards"), "{all}");
    assert!(
        all.contains("transforms.unwrap.drop.tombstones")
            && all.contains("delete.tombstone.handling.mode"),
        "{all}"
    );
    assert!(all.contains("transforms.route.regex"), "{all}");
    assert!(all.contains("transforms.typo.type"), "{all}");
    assert_eq!(errors.len(), 4, "{all}");
}

#[test]
fn timestamp_formats_are_read_as_simple_date_format_reads_them() {
    let (chain, errors) = parse(&[
        ("transforms", "daily,fine"),
        ("transforms.daily.type", TIMESTAMP_ROUTER),
        ("transforms.fine.type", TIMESTAMP_ROUTER),
        ("transforms.fine.topic.format", "${timestamp}.${topic}"),
        ("transforms.fine.timestamp.format", "yy-M-d'T'HH''mm:ss.SSS"),
    ]);
    assert!(errors.is_empty(), "{errors:?}");
    let TransformKind::TimestampRouter(daily) = &chain[0].kind else {
        panic!("{chain:?}")
    };
    assert_eq!(daily.topic_format, "${topic}-${timestamp}");
    assert_eq!(
        daily.timestamp_format,
        [DatePart::Year(4), DatePart::Month(2), DatePart::Day(2)]
    );
    let TransformKind::TimestampRouter(fine) = &chain[1].kind else {
        panic!("{chain:?}")
    };
    assert_eq!(
        fine.timestamp_format,
        [
            DatePart::Year(2),
            DatePart::Literal("-".into()),
            DatePart::Month(1),
            DatePart::Literal("-".into()),
            DatePart::Day(1),
            DatePart::Literal("T".into()),
            DatePart::Hour(2),
            DatePart::Literal("'".into()),
            DatePart::Minute(2),
            DatePart::Literal(":".into()),
            DatePart::Second(2),
            DatePart::Literal(".".into()),
            DatePart::Millisecond(3),
        ]
    );
    for pattern in ["EEE yyyy", "yyyyMMMdd", "hh:mm a", "yyyy'T"] {
        let (_, errors) = parse(&[
            ("transforms", "t"),
            ("transforms.t.type", TIMESTAMP_ROUTER),
            ("transforms.t.timestamp.format", pattern),
        ]);
        assert!(
            errors.len() == 1 && errors[0].contains("transforms.t.timestamp.format"),
            "{pattern}: {errors:?}"
        );
    }
}

#[test]
fn changed_fields_are_listed_and_dropped_by_header() {
    let (chain, errors) = parse(&[
        ("transforms", "changes,unwrap"),
        ("transforms.changes.type", EXTRACT_CHANGED_RECORD_STATE),
        ("transforms.changes.header.changed.name", "Changed"),
        ("transforms.changes.header.unchanged.name", " "),
        ("transforms.unwrap.type", EXTRACT_NEW_RECORD_STATE),
        ("transforms.unwrap.drop.fields.header.name", "Unchanged"),
        ("transforms.unwrap.drop.fields.from.key", "true"),
    ]);
    assert!(errors.is_empty(), "{errors:?}");
    let TransformKind::ExtractChangedRecordState { changed, unchanged } = &chain[0].kind else {
        panic!("{chain:?}")
    };
    assert_eq!(changed.as_deref(), Some("Changed"));
    assert_eq!(
        unchanged, &None,
        "a blank name is none, as Debezium reads it"
    );
    let TransformKind::ExtractNewRecordState(unwrap) = &chain[1].kind else {
        panic!("{chain:?}")
    };
    let drop = unwrap
        .drop_fields
        .as_ref()
        .expect("drop.fields.header.name");
    assert_eq!(drop.header, "Unchanged");
    assert!(drop.from_key && drop.keep_schema_compatible);
}
