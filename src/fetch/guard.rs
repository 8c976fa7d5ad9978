//! Which addresses a fetch may reach. URLs that come from source content (article links,
//! every redirect hop) may only reach public unicast addresses: not loopback, private,
//! link-local (cloud metadata), shared (CGNAT), multicast, documentation or otherwise
//! reserved space, in any of their IPv6 spellings. Names are checked where they are
//! resolved, at connect time (`PublicResolver`), so a name that changes its answer between
//! a check and the connection (DNS rebinding) cannot slip past; literal addresses never
//! reach a resolver and are checked from the URL (`check_url`).

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use url::{Host, Url};

/// A fetch refused because of where it would connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The name as written, when the address came from resolving it.
    pub name: Option<String>,
    pub addr: IpAddr,
    /// What kind of address it is ("a loopback address").
    pub kind: &'static str,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} resolves to {}, {}", self.addr, self.kind),
            None => write!(f, "{} is {}", self.addr, self.kind),
        }
    }
}

impl std::error::Error for Refused {}

/// Why `ip` is not a public address, or `None` when it is one.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() => "an unspecified address",
        _ if ip.is_broadcast() => "the broadcast address",
        (0, _, _) => "a \"this network\" address (0.0.0.0/8)",
        (127, _, _) => "a loopback address",
        (10, _, _) => "a private address (10.0.0.0/8)",
        (172, 16..=31, _) => "a private address (172.16.0.0/12)",
        (192, 168, _) => "a private address (192.168.0.0/16)",
        (169, 254, _) => "a link-local address (169.254.0.0/16, where cloud metadata lives)",
        (100, 64..=127, _) => "a shared address (100.64.0.0/10, carrier-grade NAT)",
        (192, 0, 0) => "a reserved address (192.0.0.0/24, IETF protocol assignments)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address (198.18.0.0/15)",
        (192, 88, 99) => "a reserved address (192.88.99.0/24, 6to4 relay anycast)",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) => "a reserved address (240.0.0.0/4)",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d) forms
    // reach the IPv4 address they carry.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4);
    }
    if segments[..6] == [0; 6] {
        return Some(
            non_public_v4(embedded_v4(segments[6], segments[7]))
                .unwrap_or("an IPv4-compatible address (::a.b.c.d, deprecated and not routed)"),
        );
    }
    // NAT64 (64:ff9b::/96) reaches the IPv4 address it carries: allowed only when that one
    // is public. The local-use prefix 64:ff9b:1::/48 is never public.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return non_public_v4(embedded_v4(segments[6], segments[7]));
    }
    if segments[..3] == [0x64, 0xff9b, 1] {
        return Some("a local-use NAT64 address (64:ff9b:1::/48)");
    }
    // Everything outside global unicast 2000::/3 is link-local, unique-local, multicast,
    // discard-only or unassigned.
    match segments[0] {
        0xff00..=0xffff => return Some("a multicast address"),
        0xfe80..=0xfebf => return Some("a link-local address (fe80::/10)"),
        0xfec0..=0xfeff => return Some("a site-local address (fec0::/10, deprecated)"),
        0xfc00..=0xfdff => return Some("a unique-local address (fc00::/7)"),
        0x2000..=0x3fff => {}
        _ => return Some("a reserved address (outside global unicast 2000::/3)"),
    }
    match (segments[0], segments[1]) {
        // 6to4 carries an IPv4 address in bits 16-48: refused when that one is not public.
        (0x2002, _) => non_public_v4(embedded_v4(segments[1], segments[2]))
            .map(|_| "a 6to4 address (2002::/16) of a non-public IPv4 address"),
        (0x2001, 0x0db8) => Some("a documentation address (2001:db8::/32)"),
        (0x2001, 0x0000) => Some("a Teredo address (2001::/32)"),
        (0x2001, 0x0002) if segments[2] == 0 => Some("a benchmarking address (2001:2::/48)"),
        (0x3fff, 0x0000..=0x0fff) => Some("a documentation address (3fff::/20)"),
        _ => None,
    }
}

fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

/// Refuses a URL whose host is a literal non-public address (names are the resolver's job).
pub fn check_url(url: &Url) -> Result<(), Refused> {
    let ip = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return Ok(()),
    };
    match non_public(ip) {
        Some(kind) => Err(Refused {
            name: None,
            addr: ip,
            kind,
        }),
        None => Ok(()),
    }
}

/// The public addresses among what `name` resolved to; refused when there are none.
pub fn public_only(name: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, Refused> {
    let mut first_refused = None;
    let mut public = Vec::with_capacity(addrs.len());
    for addr in addrs {
        match non_public(addr.ip()) {
            None => public.push(addr),
            Some(kind) => {
                first_refused.get_or_insert(Refused {
                    name: Some(name.to_string()),
                    addr: addr.ip(),
                    kind,
                });
            }
        }
    }
    match (public.is_empty(), first_refused) {
        (true, Some(refused)) => Err(refused),
        _ => Ok(public),
    }
}

/// A resolver that answers only with public addresses: the system resolver's answers
/// (`/etc/hosts` included, so `localhost` too) filtered by `public_only`, at connect time.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicResolver;

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let name = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{name} resolves to no address").into());
            }
            let public = public_only(&name, addrs)?;
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// The refusal among the causes of `e`, if a refusal is what failed it.
pub(crate) fn refusal_in(e: &(dyn std::error::Error + 'static)) -> Option<Refused> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(inner) = cause {
        if let Some(refused) = inner.downcast_ref::<Refused>() {
            return Some(refused.clone());
        }
        cause = inner.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Option<&'static str> {
        non_public(text.parse().unwrap())
    }

    fn refused(text: &str) -> bool {
        kind(text).is_some()
    }

    #[test]
    fn every_non_public_ipv4_range_is_refused() {
        for (ip, expected) in [
            ("127.0.0.1", "a loopback address"),
            ("127.255.255.254", "a loopback address"),
            ("0.0.0.0", "an unspecified address"),
            ("0.1.2.3", "a \"this network\" address (0.0.0.0/8)"),
            ("10.0.0.1", "a private address (10.0.0.0/8)"),
            ("10.255.255.255", "a private address (10.0.0.0/8)"),
            ("172.16.0.1", "a private address (172.16.0.0/12)"),
            ("172.31.255.255", "a private address (172.16.0.0/12)"),
            ("192.168.1.1", "a private address (192.168.0.0/16)"),
            (
                "169.254.169.254",
                "a link-local address (169.254.0.0/16, where cloud metadata lives)",
            ),
            (
                "100.64.0.1",
                "a shared address (100.64.0.0/10, carrier-grade NAT)",
            ),
            (
                "100.127.255.255",
                "a shared address (100.64.0.0/10, carrier-grade NAT)",
            ),
            ("224.0.0.1", "a multicast address"),
            ("239.255.255.250", "a multicast address"),
            ("255.255.255.255", "the broadcast address"),
            ("240.0.0.1", "a reserved address (240.0.0.0/4)"),
            ("192.0.2.1", "a documentation address"),
            ("198.51.100.7", "a documentation address"),
            ("203.0.113.9", "a documentation address"),
            ("198.18.0.1", "a benchmarking address (198.18.0.0/15)"),
            ("198.19.255.1", "a benchmarking address (198.18.0.0/15)"),
            (
                "192.0.0.8",
                "a reserved address (192.0.0.0/24, IETF protocol assignments)",
            ),
            (
                "192.88.99.1",
                "a reserved address (192.88.99.0/24, 6to4 relay anycast)",
            ),
        ] {
            assert_eq!(kind(ip), Some(expected), "{ip}");
        }
    }

    #[test]
    fn public_ipv4_is_allowed_including_the_edges_of_refused_ranges() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.215.14",
            "9.255.255.255",
            "11.0.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "169.253.255.255",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "223.255.255.255",
            "198.17.255.255",
            "198.20.0.0",
        ] {
            assert_eq!(kind(ip), None, "{ip}");
        }
    }

    #[test]
    fn every_non_public_ipv6_range_is_refused() {
        for (ip, expected) in [
            ("::1", "a loopback address"),
            ("::", "an unspecified address"),
            ("fe80::1", "a link-local address (fe80::/10)"),
            ("febf::1", "a link-local address (fe80::/10)"),
            ("fec0::1", "a site-local address (fec0::/10, deprecated)"),
            ("fc00::1", "a unique-local address (fc00::/7)"),
            ("fd12:3456::1", "a unique-local address (fc00::/7)"),
            ("ff02::1", "a multicast address"),
            ("ff0e::1", "a multicast address"),
            ("2001:db8::1", "a documentation address (2001:db8::/32)"),
            ("3fff::1", "a documentation address (3fff::/20)"),
            ("2001::1", "a Teredo address (2001::/32)"),
            ("2001:2::1", "a benchmarking address (2001:2::/48)"),
            (
                "100::1",
                "a reserved address (outside global unicast 2000::/3)",
            ),
            (
                "4000::1",
                "a reserved address (outside global unicast 2000::/3)",
            ),
            ("64:ff9b:1::1", "a local-use NAT64 address (64:ff9b:1::/48)"),
        ] {
            assert_eq!(kind(ip), Some(expected), "{ip}");
        }
    }

    #[test]
    fn ipv6_forms_of_ipv4_carry_the_ipv4_verdict() {
        // IPv4-mapped, IPv4-compatible, NAT64 and 6to4 spellings of refused addresses.
        for ip in [
            "::ffff:127.0.0.1",
            "::ffff:7f00:1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::ffff:0.0.0.0",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::192.168.0.1",
            "2002:7f00:1::1",
            "2002:a00:1::",
            "2002:c0a8:101::1",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(refused(ip), "{ip} must be refused");
        }
        assert_eq!(kind("::ffff:127.0.0.1"), Some("a loopback address"));
        assert_eq!(kind("64:ff9b::7f00:1"), Some("a loopback address"));
        assert_eq!(
            kind("2002:7f00:1::1"),
            Some("a 6to4 address (2002::/16) of a non-public IPv4 address")
        );
        // The same spellings of public addresses stay public (NAT64 is how IPv6-only
        // networks reach IPv4 sites), except the deprecated compatible form.
        for ip in ["::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1"] {
            assert_eq!(kind(ip), None, "{ip}");
        }
        assert!(refused("::8.8.8.8"));
    }

    #[test]
    fn public_ipv6_is_allowed() {
        for ip in ["2606:4700::1111", "2a00:1450:4001::200e", "2001:4860::8888"] {
            assert_eq!(kind(ip), None, "{ip}");
        }
    }

    #[test]
    fn literal_hosts_are_checked_as_the_url_crate_normalizes_them() {
        for text in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "https://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1:8080/",
        ] {
            let url = Url::parse(text).unwrap();
            assert!(check_url(&url).is_err(), "{text} ({url}) must be refused");
        }
        let err = check_url(&Url::parse("http://2130706433/").unwrap()).unwrap_err();
        assert_eq!(err.to_string(), "127.0.0.1 is a loopback address");
        // Names are left to the resolver.
        for text in [
            "http://localhost/",
            "https://example.com/",
            "http://8.8.8.8/",
        ] {
            assert!(check_url(&Url::parse(text).unwrap()).is_ok(), "{text}");
        }
    }

    #[test]
    fn resolved_addresses_are_filtered_and_all_private_is_refused() {
        let addr = |s: &str| -> SocketAddr { s.parse().unwrap() };
        // A name answering with a public and a private address (rebinding) keeps the public
        // one only.
        let kept = public_only(
            "rebind.example",
            vec![addr("127.0.0.1:0"), addr("93.184.215.14:0")],
        )
        .unwrap();
        assert_eq!(kept, vec![addr("93.184.215.14:0")]);
        let err =
            public_only("rebind.example", vec![addr("10.0.0.7:0"), addr("[::1]:0")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "rebind.example resolves to 10.0.0.7, a private address (10.0.0.0/8)"
        );
    }

    #[tokio::test]
    async fn the_resolver_refuses_localhost_and_passes_literal_public_answers() {
        let err = match PublicResolver.resolve("localhost".parse().unwrap()).await {
            Ok(addrs) => panic!("localhost resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e,
        };
        let refused = refusal_in(&*err).expect("a refusal");
        assert_eq!(refused.name.as_deref(), Some("localhost"));
        assert_eq!(refused.kind, "a loopback address");
        // The system resolver answers a dotted quad with itself, without any network.
        let addrs: Vec<_> = PublicResolver
            .resolve("8.8.8.8".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert_eq!(addrs, vec!["8.8.8.8:0".parse::<SocketAddr>().unwrap()]);
        assert!(PublicResolver
            .resolve("127.0.0.1".parse().unwrap())
            .await
            .is_err());
    }
}
