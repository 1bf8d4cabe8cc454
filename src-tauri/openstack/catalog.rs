//! The service catalog from the token body, and the choice of an endpoint in it.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use super::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interface {
    #[default]
    Public,
    Internal,
    Admin,
}

impl FromStr for Interface {
    type Err = Error;
    /// Accepts `public`, `publicURL` (the v2 catalog spelling), any case.
    fn from_str(s: &str) -> Result<Interface> {
        let l = s.trim().to_ascii_lowercase();
        match l.strip_suffix("url").unwrap_or(&l) {
            "public" => Ok(Interface::Public),
            "internal" => Ok(Interface::Internal),
            "admin" => Ok(Interface::Admin),
            _ => Err(Error::Invalid(format!("unknown interface '{s}' (use public, internal or admin)"))),
        }
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Interface::Public => "public",
            Interface::Internal => "internal",
            Interface::Admin => "admin",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub service_type: String,
    pub service_name: String,
    pub interface: String,
    pub region: Option<String>,
    pub url: String,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub endpoints: Vec<Endpoint>,
}

impl Catalog {
    pub fn from_json(v: &Value) -> Catalog {
        let mut endpoints = Vec::new();
        for svc in v.as_array().into_iter().flatten() {
            let service_type = svc.get("type").and_then(Value::as_str).unwrap_or_default();
            let service_name = svc.get("name").and_then(Value::as_str).unwrap_or_default();
            for ep in svc.get("endpoints").and_then(Value::as_array).into_iter().flatten() {
                let Some(url) = ep.get("url").and_then(Value::as_str) else { continue };
                endpoints.push(Endpoint {
                    service_type: service_type.to_owned(),
                    service_name: service_name.to_owned(),
                    interface: ep.get("interface").and_then(Value::as_str).unwrap_or("public").to_owned(),
                    region: ep.get("region_id").or_else(|| ep.get("region")).and_then(Value::as_str).map(str::to_owned),
                    url: url.to_owned(),
                });
            }
        }
        Catalog { endpoints }
    }

    /// The endpoint URL of `service_type` for `interface`, in `region` when one is given.
    /// Without a region, the endpoints found must agree (several regions need a choice).
    pub fn endpoint(&self, service_type: &str, interface: Interface, region: Option<&str>) -> Result<String> {
        let of_type: Vec<&Endpoint> = self.endpoints.iter().filter(|e| e.service_type == service_type).collect();
        let matches: Vec<&Endpoint> = of_type
            .iter()
            .copied()
            .filter(|e| e.interface.parse::<Interface>().ok() == Some(interface))
            .filter(|e| region.is_none_or(|r| e.region.as_deref() == Some(r)))
            .collect();
        let no_endpoint = || Error::NoEndpoint {
            service_type: service_type.to_owned(),
            interface: interface.to_string(),
            region: region.map(str::to_owned),
            available: of_type
                .iter()
                .map(|e| format!("{} in {} ({})", e.interface, e.region.as_deref().unwrap_or("no region"), e.url))
                .collect(),
        };
        let first = matches.first().ok_or_else(no_endpoint)?;
        if region.is_none() {
            let mut regions: Vec<&str> = matches.iter().filter_map(|e| e.region.as_deref()).collect();
            regions.sort();
            regions.dedup();
            if regions.len() > 1 && matches.iter().any(|e| e.url != first.url) {
                return Err(Error::Invalid(format!(
                    "the '{service_type}' service exists in several regions ({}): choose one with --os-region-name or region_name",
                    regions.join(", ")
                )));
            }
        }
        Ok(first.url.clone())
    }

    /// The catalog's JSON shape again, for the services named (a cached token keeps only
    /// what it will use).
    pub fn to_json(&self, service_types: &[&str]) -> Value {
        let mut services: Vec<Value> = Vec::new();
        for e in self.endpoints.iter().filter(|e| service_types.contains(&e.service_type.as_str())) {
            let ep = serde_json::json!({"interface": e.interface, "region_id": e.region, "url": e.url});
            let existing = services
                .iter_mut()
                .find(|s| s["type"] == e.service_type.as_str() && s["name"] == e.service_name.as_str());
            match existing {
                Some(s) => s["endpoints"].as_array_mut().expect("built here").push(ep),
                None => services
                    .push(serde_json::json!({"type": e.service_type, "name": e.service_name, "endpoints": [ep]})),
            }
        }
        Value::Array(services)
    }

    pub fn regions(&self) -> Vec<String> {
        let mut r: Vec<String> = self.endpoints.iter().filter_map(|e| e.region.clone()).collect();
        r.sort();
        r.dedup();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn catalog() -> Catalog {
        Catalog::from_json(&json!([
            {"type": "identity", "name": "keystone", "endpoints": [
                {"interface": "public", "region_id": "RegionOne", "url": "http://h/identity"}]},
            {"type": "image", "name": "glance", "endpoints": [
                {"interface": "public", "region_id": "RegionOne", "url": "http://h/image"},
                {"interface": "internal", "region_id": "RegionOne", "url": "http://10.0.0.1:9292"},
                {"interface": "public", "region_id": "RegionTwo", "url": "http://two/image"}]}
        ]))
    }

    #[test]
    fn picks_by_interface_and_region() {
        let c = catalog();
        assert_eq!(c.endpoint("image", Interface::Public, Some("RegionOne")).unwrap(), "http://h/image");
        assert_eq!(c.endpoint("image", Interface::Internal, None).unwrap(), "http://10.0.0.1:9292");
        assert_eq!(c.endpoint("image", "publicURL".parse().unwrap(), Some("RegionTwo")).unwrap(), "http://two/image");
    }

    #[test]
    fn ambiguous_region_is_an_error() {
        let e = catalog().endpoint("image", Interface::Public, None).unwrap_err().to_string();
        assert!(e.contains("RegionOne, RegionTwo"), "{e}");
    }

    #[test]
    fn missing_service_lists_what_exists() {
        let e = catalog().endpoint("image", Interface::Admin, Some("RegionOne")).unwrap_err().to_string();
        assert!(e.contains("no 'image' endpoint for interface admin in region RegionOne"), "{e}");
        assert!(e.contains("internal in RegionOne (http://10.0.0.1:9292)"), "{e}");
        let e = catalog().endpoint("volume", Interface::Public, None).unwrap_err().to_string();
        assert!(e.contains("no 'volume' service at all"), "{e}");
    }

    #[test]
    fn to_json_round_trips_the_chosen_services() {
        let c = catalog();
        let again = Catalog::from_json(&c.to_json(&["image"]));
        assert_eq!(
            again.endpoints,
            c.endpoints.iter().filter(|e| e.service_type == "image").cloned().collect::<Vec<_>>()
        );
    }

    #[test]
    fn interface_spellings() {
        assert_eq!("internalURL".parse::<Interface>().unwrap(), Interface::Internal);
        assert_eq!("ADMIN".parse::<Interface>().unwrap(), Interface::Admin);
        assert!("private".parse::<Interface>().is_err());
    }
}
