//! Booking statistics (seed 002): bookings, cancellations and no-shows counted per day, channel,
//! partner, service and provider, in the same transaction as the change they count, and summed
//! over a date range on request. Pure: keys, sums and CSV.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::appointment::{Appointment, Channel};

/// What a change counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// A booking.
    Booked,
    /// A cancellation.
    Cancelled,
    /// A no-show.
    NoShow,
}

impl Counted {
    /// The counter's name in the stored item.
    pub fn counter(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Cancelled => "cancelled",
            Self::NoShow => "no_shows",
        }
    }
}

/// The channel's name in statistics.
pub fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Online => "online",
        Channel::Staff => "staff",
        Channel::BookingLink => "booking_link",
        Channel::Partner => "partner",
    }
}

/// The dimensions one counter item is kept under (besides its day).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Dimensions {
    /// Channel name.
    pub channel: String,
    /// Partner code, or empty.
    pub partner_id: String,
    /// Booking type id.
    pub booking_type_id: String,
    /// Provider id.
    pub provider_id: String,
}

impl Dimensions {
    /// An appointment's dimensions.
    pub fn of(appointment: &Appointment) -> Self {
        Self {
            channel: channel_name(appointment.channel).to_owned(),
            partner_id: appointment.partner_id.as_ref().map(|id| id.as_str().to_owned()).unwrap_or_default(),
            booking_type_id: appointment.booking_type_id.to_string(),
            provider_id: appointment.provider_id.to_string(),
        }
    }

    /// The sort key of the day's item: `{day}#{channel}#{partner}#{booking type}#{provider}`
    /// (no part can hold `#`: they are names, slugs and UUIDs).
    pub fn sort_key(&self, day: &str) -> String {
        format!("{day}#{}#{}#{}#{}", self.channel, self.partner_id, self.booking_type_id, self.provider_id)
    }

    /// Reads a sort key back.
    pub fn from_sort_key(sort_key: &str) -> Option<(String, Self)> {
        let mut parts = sort_key.split('#');
        let day = parts.next()?.to_owned();
        let dimensions = Self {
            channel: parts.next()?.to_owned(),
            partner_id: parts.next()?.to_owned(),
            booking_type_id: parts.next()?.to_owned(),
            provider_id: parts.next()?.to_owned(),
        };
        parts.next().is_none().then_some((day, dimensions))
    }
}

/// What rows are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GroupBy {
    /// Channel.
    Channel,
    /// Partner.
    Partner,
    /// Service (booking type).
    BookingType,
    /// Provider.
    Provider,
}

impl GroupBy {
    /// Every grouping, in column order.
    pub const ALL: [GroupBy; 4] = [Self::Channel, Self::Partner, Self::BookingType, Self::Provider];

    /// The grouping's name in requests and columns.
    pub fn name(self) -> &'static str {
        match self {
            Self::Channel => "channel",
            Self::Partner => "partner_id",
            Self::BookingType => "booking_type_id",
            Self::Provider => "provider_id",
        }
    }

    /// The CSV column that carries the name beside the id, if the grouping has one.
    pub fn name_column(self) -> Option<&'static str> {
        match self {
            Self::Channel => None,
            Self::Partner => Some("partner_name"),
            Self::BookingType => Some("booking_type_name"),
            Self::Provider => Some("provider_name"),
        }
    }

    /// Parses `channel,partner_id,…`; empty means every grouping.
    pub fn parse_list(value: &str) -> Result<Vec<GroupBy>, String> {
        let mut groups = Vec::new();
        for name in value.split(',').map(str::trim).filter(|name| !name.is_empty()) {
            let group = Self::ALL.into_iter().find(|group| group.name() == name).ok_or_else(|| {
                format!("{name:?} is not a grouping: use channel, partner_id, booking_type_id or provider_id")
            })?;
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
        groups.sort();
        Ok(if groups.is_empty() { Self::ALL.to_vec() } else { groups })
    }
}

/// Counts for one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Counts {
    /// Bookings made.
    pub booked: i64,
    /// Cancellations.
    pub cancelled: i64,
    /// No-shows.
    pub no_shows: i64,
}

/// Sums stored counters into rows keyed by the chosen groupings (other dimensions are summed
/// over; an ungrouped dimension reads as an empty string).
pub fn sum(items: impl IntoIterator<Item = (Dimensions, Counts)>, groups: &[GroupBy]) -> BTreeMap<Dimensions, Counts> {
    let mut rows: BTreeMap<Dimensions, Counts> = BTreeMap::new();
    for (dimensions, counts) in items {
        let key = Dimensions {
            channel: if groups.contains(&GroupBy::Channel) { dimensions.channel } else { String::new() },
            partner_id: if groups.contains(&GroupBy::Partner) { dimensions.partner_id } else { String::new() },
            booking_type_id: if groups.contains(&GroupBy::BookingType) {
                dimensions.booking_type_id
            } else {
                String::new()
            },
            provider_id: if groups.contains(&GroupBy::Provider) { dimensions.provider_id } else { String::new() },
        };
        let row = rows.entry(key).or_default();
        row.booked += counts.booked;
        row.cancelled += counts.cancelled;
        row.no_shows += counts.no_shows;
    }
    rows
}

/// The rows as CSV: one column per grouping, then the counts.
pub fn csv(
    rows: &BTreeMap<Dimensions, Counts>,
    groups: &[GroupBy],
    name: &dyn Fn(GroupBy, &str) -> Option<String>,
) -> String {
    let mut header: Vec<String> = Vec::new();
    for group in groups {
        header.push(group.name().to_owned());
        if let Some(column) = group.name_column() {
            header.push(column.to_owned());
        }
    }
    header.extend(["booked", "cancelled", "no_shows"].map(str::to_owned));
    let mut out = header.join(",");
    out.push('\n');
    for (dimensions, counts) in rows {
        let mut cells: Vec<String> = Vec::new();
        for group in groups {
            let value = match group {
                GroupBy::Channel => &dimensions.channel,
                GroupBy::Partner => &dimensions.partner_id,
                GroupBy::BookingType => &dimensions.booking_type_id,
                GroupBy::Provider => &dimensions.provider_id,
            };
            cells.push(csv_cell(value));
            if group.name_column().is_some() {
                cells.push(csv_cell(&name(*group, value).unwrap_or_default()));
            }
        }
        cells.extend([counts.booked.to_string(), counts.cancelled.to_string(), counts.no_shows.to_string()]);
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// One CSV cell: quoted when it holds a comma, quote or line break (RFC 4180), and prefixed with
/// `'` when a spreadsheet would read it as a formula (a name beginning `=`, `+`, `-` or `@`).
fn csv_cell(value: &str) -> String {
    let value =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dims(channel: &str, partner: &str, provider: &str) -> Dimensions {
        Dimensions {
            channel: channel.into(),
            partner_id: partner.into(),
            booking_type_id: "bt".into(),
            provider_id: provider.into(),
        }
    }

    #[test]
    fn sort_keys_round_trip() {
        let d = dims("partner", "acme", "p1");
        let key = d.sort_key("2026-11-22");
        assert_eq!(key, "2026-11-22#partner#acme#bt#p1");
        assert_eq!(Dimensions::from_sort_key(&key), Some(("2026-11-22".into(), d)));
        assert_eq!(Dimensions::from_sort_key("2026-11-22#a#b"), None);
    }

    #[test]
    fn groupings_parse_and_refuse_unknown_names() {
        assert_eq!(GroupBy::parse_list("").unwrap(), GroupBy::ALL.to_vec());
        assert_eq!(GroupBy::parse_list("provider_id, channel,channel").unwrap(), [GroupBy::Channel, GroupBy::Provider]);
        assert!(GroupBy::parse_list("doctor").unwrap_err().contains("doctor"));
    }

    #[test]
    fn sums_collapse_ungrouped_dimensions_and_render_as_csv() {
        let one = Counts { booked: 1, cancelled: 0, no_shows: 0 };
        let items = vec![
            (dims("partner", "acme", "p1"), one),
            (dims("partner", "acme", "p2"), Counts { booked: 2, cancelled: 1, no_shows: 1 }),
            (dims("staff", "", "p1"), one),
        ];
        let rows = sum(items, &[GroupBy::Channel, GroupBy::Partner]);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[&Dimensions { channel: "partner".into(), partner_id: "acme".into(), ..Dimensions::default() }],
            Counts { booked: 3, cancelled: 1, no_shows: 1 }
        );
        let names =
            |group: GroupBy, id: &str| (group == GroupBy::Partner && id == "acme").then(|| "Acme, Ltd".to_owned());
        assert_eq!(
            csv(&rows, &[GroupBy::Channel, GroupBy::Partner], &names),
            "channel,partner_id,partner_name,booked,cancelled,no_shows\npartner,acme,\"Acme, Ltd\",3,1,1\nstaff,,,1,0,0\n"
        );
    }

    #[test]
    fn csv_cells_are_quoted_and_never_read_as_formulas() {
        assert_eq!(csv_cell("Dr \"Sam\" Patel"), "\"Dr \"\"Sam\"\" Patel\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+44"), "'+44");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("plain"), "plain");
    }

    proptest! {
        #[test]
        fn any_grouping_keeps_the_totals(counts in proptest::collection::vec((0usize..3, 0usize..3, 0i64..5, 0i64..5, 0i64..5), 0..40), mask in 0u8..16) {
            let channels = ["online", "staff", "partner"];
            let providers = ["p1", "p2", "p3"];
            let items: Vec<(Dimensions, Counts)> = counts.iter().map(|(c, p, b, x, n)| {
                (dims(channels[*c], "", providers[*p]), Counts { booked: *b, cancelled: *x, no_shows: *n })
            }).collect();
            let groups: Vec<GroupBy> = GroupBy::ALL.into_iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, g)| g).collect();
            let rows = sum(items.clone(), &groups);
            let total = |f: fn(&Counts) -> i64| items.iter().map(|(_, c)| f(c)).sum::<i64>();
            prop_assert_eq!(rows.values().map(|c| c.booked).sum::<i64>(), total(|c| c.booked));
            prop_assert_eq!(rows.values().map(|c| c.cancelled).sum::<i64>(), total(|c| c.cancelled));
            prop_assert_eq!(rows.values().map(|c| c.no_shows).sum::<i64>(), total(|c| c.no_shows));
        }
    }
}
