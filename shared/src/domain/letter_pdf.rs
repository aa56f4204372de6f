//! A letter as a PDF a clinic would sign: letterhead (logo, name, address, phone), the recipient's
//! address where a DL window envelope shows it, the date in the clinic's language, heading,
//! body, sign-off and "Page 1 of 2". Text is set in DejaVu Sans, embedded and subset to the
//! glyphs used, so any name in Latin, Greek or Cyrillic script prints as written. Pure: bytes in,
//! bytes out.

use std::sync::OnceLock;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};
use subsetter::GlyphRemapper;

use super::logo::{PdfColour, PdfFilter, PdfImage};

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 64.0;
const MM: f32 = 72.0 / 25.4;
/// A DL window envelope shows 90 × 45 mm from 20 mm left and 50 mm down an A4 folded in three:
/// the address block starts inside it with a little room.
const ADDRESS_LEFT: f32 = 25.0 * MM;
const ADDRESS_TOP: f32 = PAGE_HEIGHT - 56.0 * MM;
const ADDRESS_WIDTH: f32 = 85.0 * MM;
const ADDRESS_LINES: usize = 7;
const BODY_SIZE: f32 = 11.0;
const LEADING: f32 = 15.0;
const BOTTOM: f32 = 72.0;

/// The clinic's part of a letter.
pub struct Letterhead<'a> {
    /// Clinic name.
    pub name: &'a str,
    /// Clinic address, one line each.
    pub address: &'a [String],
    /// Clinic phone number.
    pub phone: Option<&'a str>,
    /// The clinic's logo, drawn top left with the name beside it.
    pub logo: Option<&'a PdfImage>,
}

/// The logo's box on the letterhead: at most 140 × 40 points, its proportions kept.
const LOGO_MAX_WIDTH: f32 = 140.0;
const LOGO_MAX_HEIGHT: f32 = 40.0;
const LOGO_BOTTOM: f32 = PAGE_HEIGHT - 84.0;

/// The size a logo is drawn at (points).
fn logo_size(image: &PdfImage) -> (f32, f32) {
    let (width, height) = (image.width.max(1) as f32, image.height.max(1) as f32);
    let scale = (LOGO_MAX_WIDTH / width).min(LOGO_MAX_HEIGHT / height);
    (width * scale, height * scale)
}

/// What goes on a letter.
pub struct LetterText<'a> {
    /// The clinic.
    pub letterhead: Letterhead<'a>,
    /// The recipient's address block, one line each.
    pub address: &'a [String],
    /// The date line, in the clinic's language.
    pub date: &'a str,
    /// The heading.
    pub heading: &'a str,
    /// The body.
    pub body: &'a str,
    /// The closing, e.g. "Yours sincerely".
    pub closing: &'a str,
    /// "Page {n} of {total}" in the clinic's language, with `{n}` and `{total}` to fill.
    pub page_label: &'a str,
    /// "Phone" in the clinic's language.
    pub phone_label: &'a str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Face {
    Regular,
    Bold,
}

struct Font {
    data: &'static [u8],
    face: ttf_parser::Face<'static>,
}

impl Font {
    fn load(data: &'static [u8]) -> Option<Self> {
        ttf_parser::Face::parse(data, 0).ok().map(|face| Self { data, face })
    }

    fn glyph(&self, c: char) -> u16 {
        self.face.glyph_index(c).or_else(|| self.face.glyph_index('?')).map_or(0, |glyph| glyph.0)
    }

    /// Width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let units = f32::from(self.face.units_per_em());
        text.chars()
            .map(|c| f32::from(self.face.glyph_hor_advance(ttf_parser::GlyphId(self.glyph(c))).unwrap_or(0)))
            .sum::<f32>()
            * size
            / units
    }
}

fn fonts() -> Option<&'static (Font, Font)> {
    static FONTS: OnceLock<Option<(Font, Font)>> = OnceLock::new();
    FONTS.get_or_init(|| Some((Font::load(REGULAR)?, Font::load(BOLD)?))).as_ref()
}

/// One run of text placed on a page.
struct Run {
    face: Face,
    size: f32,
    x: f32,
    y: f32,
    text: String,
}

/// Breaks `text` into lines no wider than `width` (a word wider than the line stands alone),
/// keeping the text's own line breaks.
fn wrap(font: &Font, text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
            if font.width(&candidate, size) > width && !line.is_empty() {
                lines.push(std::mem::replace(&mut line, word.to_owned()));
            } else {
                line = candidate;
            }
        }
        lines.push(line);
    }
    lines
}

/// Places every run on its page.
fn layout(letter: &LetterText<'_>, regular: &Font, bold: &Font) -> Vec<Vec<Run>> {
    let mut pages: Vec<Vec<Run>> = vec![Vec::new()];
    let right = PAGE_WIDTH - MARGIN;
    let text_width = PAGE_WIDTH - 2.0 * MARGIN;
    let run = |face, size, x, y, text: &str| Run { face, size, x, y, text: text.to_owned() };
    // Letterhead: the name on the left, how to reach the clinic on the right.
    let first = &mut pages[0];
    let name_left = letter.letterhead.logo.map_or(MARGIN, |logo| MARGIN + logo_size(logo).0 + 12.0);
    let mut contact: Vec<String> = letter.letterhead.address.to_vec();
    if let Some(phone) = letter.letterhead.phone {
        contact.push(format!("{}: {phone}", letter.phone_label));
    }
    // The name shrinks (to 10 points at least) rather than run into the contact block.
    let contact_width = contact.iter().map(|line| regular.width(line, 9.0)).fold(0.0, f32::max);
    let room = right - contact_width - 12.0 - name_left;
    let name_size = (16.0 * room / bold.width(letter.letterhead.name, 16.0).max(1.0)).clamp(10.0, 16.0);
    first.push(run(Face::Bold, name_size, name_left, PAGE_HEIGHT - 60.0, letter.letterhead.name));
    for (index, line) in contact.iter().enumerate() {
        let y = PAGE_HEIGHT - 56.0 - 12.0 * index as f32;
        first.push(run(Face::Regular, 9.0, right - regular.width(line, 9.0), y, line));
    }
    // The recipient, in the envelope's window.
    for (index, line) in letter.address.iter().take(ADDRESS_LINES).enumerate() {
        let fitted = wrap(regular, line, BODY_SIZE, ADDRESS_WIDTH).into_iter().next().unwrap_or_default();
        first.push(run(Face::Regular, BODY_SIZE, ADDRESS_LEFT, ADDRESS_TOP - LEADING * index as f32, &fitted));
    }
    // Date on the right below the window, then heading and body.
    let date_y = PAGE_HEIGHT - 105.0 * MM;
    first.push(run(Face::Regular, BODY_SIZE, right - regular.width(letter.date, BODY_SIZE), date_y, letter.date));
    let mut y = date_y - 2.0 * LEADING;
    for line in wrap(bold, letter.heading, 12.0, text_width) {
        pages.last_mut().unwrap_or_else(|| unreachable!()).push(run(Face::Bold, 12.0, MARGIN, y, &line));
        y -= LEADING + 2.0;
    }
    y -= LEADING / 2.0;
    let mut body = wrap(regular, letter.body, BODY_SIZE, text_width);
    body.push(String::new());
    body.extend(letter.closing.lines().map(str::to_owned));
    body.push(String::new());
    body.push(letter.letterhead.name.to_owned());
    for line in body {
        if y < BOTTOM {
            pages.push(Vec::new());
            y = PAGE_HEIGHT - MARGIN;
        }
        if let Some(page) = pages.last_mut() {
            page.push(run(Face::Regular, BODY_SIZE, MARGIN, y, &line));
        }
        y -= LEADING;
    }
    let total = pages.len();
    for (index, page) in pages.iter_mut().enumerate() {
        let label = letter.page_label.replace("{n}", &(index + 1).to_string()).replace("{total}", &total.to_string());
        let x = (PAGE_WIDTH - regular.width(&label, 9.0)) / 2.0;
        page.push(run(Face::Regular, 9.0, x, 36.0, &label));
    }
    pages
}

/// One embedded font: the glyphs used, renumbered for the subset.
struct Embedded<'f> {
    font: &'f Font,
    remapper: GlyphRemapper,
    unicode: Vec<(u16, char)>,
}

impl<'f> Embedded<'f> {
    fn new(font: &'f Font) -> Self {
        Self { font, remapper: GlyphRemapper::new(), unicode: Vec::new() }
    }

    /// The text as the subset's two-byte glyph ids.
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(text.len() * 2);
        for c in text.chars().filter(|c| !c.is_control()) {
            let glyph = self.remapper.remap(self.font.glyph(c));
            if !self.unicode.iter().any(|(known, _)| *known == glyph) {
                self.unicode.push((glyph, c));
            }
            bytes.extend_from_slice(&glyph.to_be_bytes());
        }
        bytes
    }

    /// Writes the font's objects from `first` on: Type0, CID font, descriptor, subset file and
    /// ToUnicode map. Returns the next free id.
    fn write(&self, pdf: &mut Pdf, first: i32, base: &[u8]) -> i32 {
        let (type0, cid, descriptor, file, cmap) =
            (Ref::new(first), Ref::new(first + 1), Ref::new(first + 2), Ref::new(first + 3), Ref::new(first + 4));
        let info = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };
        pdf.type0_font(type0)
            .base_font(Name(base))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(cmap);
        let units = f32::from(self.font.face.units_per_em());
        let scale = |value: i16| f32::from(value) * 1000.0 / units;
        let mut old_of_new = vec![0u16; usize::from(self.remapper.num_gids())];
        for old in 0..=u16::MAX {
            if let Some(new) = self.remapper.get(old) {
                old_of_new[usize::from(new)] = old;
            }
            if usize::from(old) + 1 > usize::from(self.font.face.number_of_glyphs()) {
                break;
            }
        }
        let widths: Vec<f32> = old_of_new
            .iter()
            .map(|old| {
                f32::from(self.font.face.glyph_hor_advance(ttf_parser::GlyphId(*old)).unwrap_or(0)) * 1000.0 / units
            })
            .collect();
        let mut cid_font = pdf.cid_font(cid);
        cid_font
            .subtype(CidFontType::Type2)
            .base_font(Name(base))
            .system_info(info)
            .font_descriptor(descriptor)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid_font.widths().consecutive(0, widths);
        cid_font.finish();
        let bbox = self.font.face.global_bounding_box();
        pdf.font_descriptor(descriptor)
            .name(Name(base))
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(scale(bbox.x_min), scale(bbox.y_min), scale(bbox.x_max), scale(bbox.y_max)))
            .italic_angle(0.0)
            .ascent(scale(self.font.face.ascender()))
            .descent(scale(self.font.face.descender()))
            .cap_height(scale(self.font.face.capital_height().unwrap_or(self.font.face.ascender())))
            .stem_v(80.0)
            .font_file2(file);
        let subset = subsetter::subset(self.font.data, 0, &self.remapper).unwrap_or_else(|_| self.font.data.to_vec());
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&subset, 6);
        pdf.stream(file, &compressed).filter(Filter::FlateDecode).pair(Name(b"Length1"), subset.len() as i32);
        let mut map = UnicodeCmap::new(Name(b"Custom"), info);
        for (glyph, c) in &self.unicode {
            map.pair(*glyph, *c);
        }
        pdf.cmap(cmap, &map.finish());
        first + 5
    }
}

/// Renders a letter as a PDF over as many A4 pages as it needs.
pub fn render_pdf(letter: &LetterText<'_>) -> Vec<u8> {
    let Some((regular, bold)) = fonts() else {
        // The fonts are compiled in: parsing them cannot fail at run time once a test passed.
        return Vec::new();
    };
    let pages = layout(letter, regular, bold);
    let mut fonts = (Embedded::new(regular), Embedded::new(bold));
    let mut streams = Vec::new();
    for page in &pages {
        let mut content = Content::new();
        // The logo and a thin rule under the letterhead on the first page.
        if streams.is_empty() {
            if let Some(logo) = letter.letterhead.logo {
                let (width, height) = logo_size(logo);
                content.save_state();
                content.transform([width, 0.0, 0.0, height, MARGIN, LOGO_BOTTOM + (LOGO_MAX_HEIGHT - height) / 2.0]);
                content.x_object(Name(b"Im1"));
                content.restore_state();
            }
            content.set_line_width(0.5);
            content.move_to(MARGIN, PAGE_HEIGHT - 92.0);
            content.line_to(PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 92.0);
            content.stroke();
        }
        for run in page {
            let (name, font) = match run.face {
                Face::Regular => (Name(b"F1"), &mut fonts.0),
                Face::Bold => (Name(b"F2"), &mut fonts.1),
            };
            let encoded = font.encode(&run.text);
            content.begin_text();
            content.set_font(name, run.size);
            content.next_line(run.x, run.y);
            content.show(Str(&encoded));
            content.end_text();
        }
        streams.push(content.finish());
    }
    let mut pdf = Pdf::new();
    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let regular_id = Ref::new(3);
    let bold_id = Ref::new(8);
    let first_page = 13;
    let page_ids: Vec<Ref> = (0..pages.len()).map(|index| Ref::new(first_page + 2 * index as i32)).collect();
    let image_id = Ref::new(first_page + 2 * pages.len() as i32);
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id).kids(page_ids.iter().copied()).count(pages.len() as i32);
    fonts.0.write(&mut pdf, regular_id.get(), b"ABCDEF+DejaVuSans");
    fonts.1.write(&mut pdf, bold_id.get(), b"ABCDEG+DejaVuSans-Bold");
    for (index, stream) in streams.into_iter().enumerate() {
        let page_id = page_ids[index];
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
        page.parent(tree_id);
        page.contents(content_id);
        let mut resources = page.resources();
        resources.fonts().pair(Name(b"F1"), regular_id).pair(Name(b"F2"), bold_id);
        if index == 0 && letter.letterhead.logo.is_some() {
            resources.x_objects().pair(Name(b"Im1"), image_id);
        }
        resources.finish();
        page.finish();
        pdf.stream(content_id, &stream);
    }
    if let Some(logo) = letter.letterhead.logo {
        write_image(&mut pdf, image_id, logo);
    }
    pdf.finish()
}

/// The logo as an image XObject (with its soft mask right after it, when it has one).
fn write_image(pdf: &mut Pdf, id: Ref, logo: &PdfImage) {
    let mask_id = Ref::new(id.get() + 1);
    let mut image = pdf.image_xobject(id, &logo.data);
    image.filter(match logo.filter {
        PdfFilter::Dct => Filter::DctDecode,
        PdfFilter::Flate => Filter::FlateDecode,
    });
    image.width(logo.width as i32);
    image.height(logo.height as i32);
    match logo.colour {
        PdfColour::Rgb => image.color_space().device_rgb(),
        PdfColour::Gray => image.color_space().device_gray(),
    }
    image.bits_per_component(8);
    if logo.soft_mask.is_some() {
        image.s_mask(mask_id);
    }
    image.finish();
    if let Some(alpha) = &logo.soft_mask {
        let mut mask = pdf.image_xobject(mask_id, alpha);
        mask.filter(Filter::FlateDecode);
        mask.width(logo.width as i32);
        mask.height(logo.height as i32);
        mask.color_space().device_gray();
        mask.bits_per_component(8);
        mask.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn letter<'a>(address: &'a [String], body: &'a str) -> LetterText<'a> {
        LetterText {
            letterhead: Letterhead {
                name: "Riverside Family Practice",
                address: &[],
                phone: Some("020 7946 0000"),
                logo: None,
            },
            address,
            date: "Friday 4 December 2026",
            heading: "Your blood test",
            body,
            closing: "Yours sincerely,",
            page_label: "Page {n} of {total}",
            phone_label: "Phone",
        }
    }

    #[test]
    fn the_fonts_are_embedded_and_parse() {
        assert!(fonts().is_some());
        let (regular, _) = fonts().unwrap();
        for c in ['é', 'Ł', 'Ω', 'Ж', 'ß', 'ø'] {
            assert_ne!(regular.glyph(c), regular.glyph('\u{10FFFF}'), "no glyph for {c}");
        }
    }

    #[test]
    fn long_letters_run_onto_numbered_pages() {
        let address = vec!["Zoë Łukasiewicz-Ωmega".to_owned(), "1 Test Street".to_owned()];
        let body = "A line of the letter that is long enough to wrap.\n".repeat(120);
        let (regular, bold) = fonts().unwrap();
        let pages = layout(&letter(&address, &body), regular, bold);
        assert!(pages.len() >= 3, "{} pages", pages.len());
        for (index, page) in pages.iter().enumerate() {
            let label = format!("Page {} of {}", index + 1, pages.len());
            assert!(page.iter().any(|run| run.text == label), "no {label}");
            assert!(page.iter().all(|run| run.y >= 30.0 && run.x >= 0.0), "a run off the page");
        }
        let bytes = render_pdf(&letter(&address, &body));
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.windows(10).any(|w| w == b"Identity-H"), "not a Unicode font");
    }

    #[test]
    fn the_address_sits_in_the_envelope_window() {
        let address = vec!["Pat Example".to_owned(), "1 Test Street".to_owned(), "London SE1 9AA".to_owned()];
        let (regular, bold) = fonts().unwrap();
        let pages = layout(&letter(&address, "Hello."), regular, bold);
        let window = (20.0 * MM, PAGE_HEIGHT - 95.0 * MM, 110.0 * MM, PAGE_HEIGHT - 50.0 * MM);
        for line in &address {
            let run = pages[0].iter().find(|run| &run.text == line).unwrap();
            let inside = run.x >= window.0
                && run.x + regular.width(&run.text, run.size) <= window.2
                && run.y >= window.1
                && run.y + run.size <= window.3;
            assert!(inside, "{line} is outside the window");
        }
    }

    #[test]
    fn a_logo_is_drawn_top_left_with_the_name_beside_it() {
        let logo =
            crate::domain::logo::ClinicLogo::parse("image/png", crate::domain::logo::tests::png(200, 50, Some(200)))
                .unwrap()
                .pdf_image()
                .unwrap();
        assert_eq!(logo_size(&logo), (140.0, 35.0), "scaled into 140 × 40 points, proportions kept");
        let address = vec!["Pat Example".to_owned()];
        let mut with_logo = letter(&address, "Hello.");
        with_logo.letterhead.logo = Some(&logo);
        let (regular, bold) = fonts().unwrap();
        let pages = layout(&with_logo, regular, bold);
        let name = pages[0].iter().find(|run| run.text == "Riverside Family Practice").unwrap();
        assert!(name.x >= MARGIN + 140.0, "the name overlaps the logo");
        let bytes = render_pdf(&with_logo);
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("/Subtype /Image") && text.contains("/SMask") && text.contains("/Im1 Do"),
            "no image drawn"
        );
        assert!(!String::from_utf8_lossy(&render_pdf(&letter(&address, "Hello."))).contains("/Subtype /Image"));
    }

    proptest! {
        #[test]
        fn wrapped_lines_fit_and_keep_every_word(words in proptest::collection::vec("[a-zéŁΩЖ]{1,12}", 0..200)) {
            let (regular, _) = fonts().unwrap();
            let text = words.join(" ");
            let lines = wrap(regular, &text, BODY_SIZE, 300.0);
            for line in &lines {
                prop_assert!(regular.width(line, BODY_SIZE) <= 300.0 || !line.contains(' '));
            }
            let rejoined: Vec<&str> = lines.iter().flat_map(|line| line.split_whitespace()).collect();
            prop_assert_eq!(rejoined, words.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }
}
