//! SQL functions backed by the compiled IP index — never by range joins, which DataFusion plans
//! as nested loops. A value that is not an address gives NULL, never a failed query.
//!
//! | function | returns |
//! |---|---|
//! | `service_tags(ip)` | every service tag holding `ip` (latest snapshot), most specific first |
//! | `service_tag(ip)` | the most specific one |
//! | `ip_scope(ip)` | `public`, `private`, `cgnat`, `loopback`, `link_local`, `documentation`, `reserved` |
//! | `country(ip)`, `asn(ip)` | from the MaxMind databases of the topology |
//! | `ip_in_cidr(ip, cidr)` | whether `ip` is inside `cidr` |
//! | `access_path_at(ip, registry, time)` | the verdict a successful request would get |

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Arc;

use acrlens_attrib::Attributor;
use acrlens_netmap::{IpFacts, IpScope, LazyTopology, Topology, parse_prefix};
use acrlens_values::parse_caller_ip;
use arrow_array::builder::{BooleanBuilder, Int64Builder, ListBuilder, StringBuilder};
use arrow_array::{Array, ArrayRef, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, TimeUnit};
use datafusion::arrow::compute::cast;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// Which function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// `service_tags(ip)`.
    ServiceTags,
    /// `service_tag(ip)`.
    ServiceTag,
    /// `ip_scope(ip)`.
    IpScope,
    /// `country(ip)`.
    Country,
    /// `asn(ip)`.
    Asn,
    /// `ip_in_cidr(ip, cidr)`.
    IpInCidr,
    /// `access_path_at(ip, registry, time)`.
    AccessPathAt,
}

impl Function {
    /// Its name in SQL.
    pub fn name(self) -> &'static str {
        match self {
            Function::ServiceTags => "service_tags",
            Function::ServiceTag => "service_tag",
            Function::IpScope => "ip_scope",
            Function::Country => "country",
            Function::Asn => "asn",
            Function::IpInCidr => "ip_in_cidr",
            Function::AccessPathAt => "access_path_at",
        }
    }

    const ALL: [Function; 7] = [
        Function::ServiceTags,
        Function::ServiceTag,
        Function::IpScope,
        Function::Country,
        Function::Asn,
        Function::IpInCidr,
        Function::AccessPathAt,
    ];

    /// The function over `topology`.
    fn over(self, topology: &LazyTopology) -> ScalarUDF {
        ScalarUDF::from(IpFunction {
            function: self,
            topology: topology.clone(),
            signature: Signature::any(self.arity(), Volatility::Immutable),
        })
    }

    fn arity(self) -> usize {
        match self {
            Function::IpInCidr => 2,
            Function::AccessPathAt => 3,
            _ => 1,
        }
    }
}

/// One of the functions, over a topology.
#[derive(Debug)]
struct IpFunction {
    function: Function,
    topology: LazyTopology,
    signature: Signature,
}

impl PartialEq for IpFunction {
    fn eq(&self, other: &Self) -> bool {
        self.function == other.function && self.topology.ptr_eq(&other.topology)
    }
}

impl Eq for IpFunction {}

impl Hash for IpFunction {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.function.hash(state);
        self.topology.id().hash(state);
    }
}

/// The facts of each distinct address in a batch, looked up once (as of the latest snapshot).
#[derive(Default)]
struct BatchFacts<'a, 't> {
    ids: HashMap<&'a str, Option<usize>>,
    facts: Vec<IpFacts<'t>>,
}

impl<'a, 't> BatchFacts<'a, 't> {
    fn get(&mut self, topology: &'t Topology, text: Option<&'a str>) -> Option<&IpFacts<'t>> {
        let text = text?;
        let id = match self.ids.get(text) {
            Some(id) => *id,
            None => {
                let id = parse_caller_ip(text).map(|ip| {
                    self.facts.push(topology.facts(ip, i64::MAX));
                    self.facts.len() - 1
                });
                self.ids.insert(text, id);
                id
            }
        };
        id.map(|i| &self.facts[i])
    }
}

fn text_at(a: &StringArray, i: usize) -> Option<&str> {
    a.is_valid(i).then(|| a.value(i))
}

fn text_arg(array: &ArrayRef, name: &str) -> Result<ArrayRef> {
    cast(array, &DataType::Utf8).map_err(|e| DataFusionError::Plan(format!("{name}: {e}")))
}

fn strings(array: &ArrayRef) -> Result<&StringArray> {
    array
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| DataFusionError::Internal("expected Utf8".into()))
}

impl ScalarUDFImpl for IpFunction {
    fn name(&self) -> &str {
        self.function.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(match self.function {
            Function::ServiceTags => {
                DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
            }
            Function::Asn => DataType::Int64,
            Function::IpInCidr => DataType::Boolean,
            _ => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        if arrays.len() != self.function.arity() {
            return Err(DataFusionError::Plan(format!(
                "{} takes {} arguments",
                self.function.name(),
                self.function.arity()
            )));
        }
        // `ip_scope` and `ip_in_cidr` need no topology: they do not load it.
        let topology = || {
            self.topology
                .get()
                .map_err(|e| DataFusionError::External(Box::new(e)))
        };
        let ips_text = text_arg(&arrays[0], self.function.name())?;
        let ips = strings(&ips_text)?;
        // Each distinct address is parsed once per batch.
        let mut parsed: HashMap<&str, Option<IpAddr>> = HashMap::new();
        let mut ip_at = |i: usize| -> Option<IpAddr> {
            if ips.is_null(i) {
                return None;
            }
            *parsed
                .entry(ips.value(i))
                .or_insert_with_key(|text| parse_caller_ip(text))
        };
        let rows = ips.len();
        let out: ArrayRef = match self.function {
            Function::ServiceTags => {
                let topology = topology()?;
                let mut facts = BatchFacts::default();
                let mut b = ListBuilder::new(StringBuilder::new());
                for i in 0..rows {
                    match facts.get(topology, text_at(ips, i)) {
                        Some(f) => {
                            for tag in &f.tags {
                                b.values().append_value(&tag.name);
                            }
                            b.append(true);
                        }
                        None => b.append(false),
                    }
                }
                Arc::new(b.finish())
            }
            Function::IpScope => {
                let mut b = StringBuilder::with_capacity(rows, rows * 8);
                for i in 0..rows {
                    b.append_option(ip_at(i).map(|ip| IpScope::of(ip).name()));
                }
                Arc::new(b.finish())
            }
            Function::ServiceTag | Function::Country => {
                let topology = topology()?;
                let mut facts = BatchFacts::default();
                let mut b = StringBuilder::with_capacity(rows, rows * 8);
                for i in 0..rows {
                    let value =
                        facts
                            .get(topology, text_at(ips, i))
                            .and_then(|f| match self.function {
                                Function::ServiceTag => f.service_tag().map(|t| t.name.as_str()),
                                _ => f.geo.country.as_deref(),
                            });
                    b.append_option(value);
                }
                Arc::new(b.finish())
            }
            Function::Asn => {
                let topology = topology()?;
                let mut facts = BatchFacts::default();
                let mut b = Int64Builder::with_capacity(rows);
                for i in 0..rows {
                    b.append_option(
                        facts
                            .get(topology, text_at(ips, i))
                            .and_then(|f| f.geo.asn)
                            .map(i64::from),
                    );
                }
                Arc::new(b.finish())
            }
            Function::IpInCidr => {
                let cidr_text = text_arg(&arrays[1], "ip_in_cidr")?;
                let cidrs = strings(&cidr_text)?;
                let mut nets = HashMap::new();
                let mut b = BooleanBuilder::with_capacity(rows);
                for i in 0..rows {
                    let net = if cidrs.is_null(i) {
                        None
                    } else {
                        *nets
                            .entry(cidrs.value(i))
                            .or_insert_with_key(|c: &&str| parse_prefix(c).ok())
                    };
                    b.append_option(ip_at(i).zip(net).map(|(ip, net)| net.contains(&ip)));
                }
                Arc::new(b.finish())
            }
            Function::AccessPathAt => {
                let registry_text = text_arg(&arrays[1], "access_path_at")?;
                let registries = strings(&registry_text)?;
                let times = cast(
                    &arrays[2],
                    &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                )
                .map_err(|e| DataFusionError::Plan(format!("access_path_at: time: {e}")))?;
                let times = times
                    .as_any()
                    .downcast_ref::<TimestampMicrosecondArray>()
                    .ok_or_else(|| DataFusionError::Internal("expected a timestamp".into()))?;
                let attributor = Attributor::new(topology()?);
                let mut b = StringBuilder::with_capacity(rows, rows * 12);
                for i in 0..rows {
                    let path = match (ip_at(i), times.is_valid(i)) {
                        (Some(ip), true) => {
                            let registry = registries.is_valid(i).then(|| registries.value(i));
                            let a = attributor.attribute_one(
                                Some(ip),
                                Some(ips.value(i)),
                                registry,
                                times.value(i),
                                Some(200),
                                None,
                                None,
                            );
                            Some(a.verdict.path.name())
                        }
                        _ => None,
                    };
                    b.append_option(path);
                }
                Arc::new(b.finish())
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// Every function, over one topology (loaded when a function that needs it first runs).
pub fn functions(topology: &LazyTopology) -> Vec<ScalarUDF> {
    Function::ALL
        .into_iter()
        .map(|function| function.over(topology))
        .collect()
}

/// The function of acrlens named `name`, over `topology`: one of [`functions`], or `utc_date`,
/// which only the optimizer puts into plans. How a plan that crossed a process boundary finds
/// its functions again.
pub fn named(name: &str, topology: &LazyTopology) -> Option<ScalarUDF> {
    if name == crate::dates::UTC_DATE.name() {
        return Some(crate::dates::UTC_DATE.clone());
    }
    Function::ALL
        .into_iter()
        .find(|f| f.name() == name)
        .map(|f| f.over(topology))
}

/// Whether `function` is one of acrlens's (one [`named`] finds).
pub fn is_acrlens(function: &ScalarUDF) -> bool {
    let inner: &dyn std::any::Any = function.inner().as_ref();
    inner.is::<IpFunction>() || inner.is::<crate::dates::UtcDate>()
}
