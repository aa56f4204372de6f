//! Patient Connect letters: rendered to PDF (A4, Helvetica), then saved as a file or put on
//! the distribution list that staff post from (by hand, or through the ePost provider).

use jiff::Timestamp;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use serde::{Deserialize, Serialize};

use super::patient_connect::PrintOption;

/// Who a letter is to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The patient.
    Patient,
    /// The patient's GP.
    Gp,
}

/// Where a letter stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LetterStatus {
    /// Saved as a file (Save File): nothing to post.
    Saved,
    /// On the distribution list, to be printed and posted.
    ToPost,
    /// Handed to the ePost provider, with its reference.
    SentToEpost {
        /// The provider's reference.
        reference: String,
    },
    /// Posted by staff.
    Posted {
        /// Who marked it.
        by: String,
        /// When.
        #[schema(value_type = String)]
        at: Timestamp,
    },
}

/// One letter (no `Debug`: the address is patient data).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Letter {
    /// Id (time-ordered).
    pub id: String,
    /// The enrollment that made it.
    pub enrollment_id: String,
    /// The patient's record, when there is one.
    pub patient_reference: Option<String>,
    /// The patient or the GP.
    pub recipient: Recipient,
    /// Mail, ePost or Save File.
    pub print: PrintOption,
    /// Where the PDF is kept (a key in the letters bucket or directory).
    pub file_key: String,
    /// Where it stands.
    pub status: LetterStatus,
    /// When it was made.
    #[schema(value_type = String)]
    pub created_at: Timestamp,
}

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 64.0;
const FONT_SIZE: f32 = 11.0;
const LEADING: f32 = 15.0;
/// Characters per line at 11 pt Helvetica across the text width (a safe average).
const LINE_CHARS: usize = 88;

/// What goes on a letter.
pub struct LetterText<'a> {
    /// The address block, one line each.
    pub address: &'a [String],
    /// The date line, e.g. `22 November 2026`.
    pub date: &'a str,
    /// The heading (bold-free: Helvetica throughout).
    pub heading: &'a str,
    /// The body.
    pub body: &'a str,
}

/// Wraps `text` into lines of at most [`LINE_CHARS`] characters, keeping its line breaks.
fn wrap(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let needed =
                if line.is_empty() { word.chars().count() } else { line.chars().count() + 1 + word.chars().count() };
            if needed > LINE_CHARS && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// Encodes text for a standard font with WinAnsiEncoding: Latin-1 characters map to themselves;
/// anything else (outside what the font can draw) becomes `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars().map(|c| if (c as u32) < 256 && !c.is_control() { c as u8 } else { b'?' }).collect()
}

/// Renders a letter as a PDF, over as many A4 pages as it needs.
pub fn render_pdf(letter: &LetterText<'_>) -> Vec<u8> {
    let mut lines: Vec<String> = letter.address.to_vec();
    lines.extend([String::new(), letter.date.to_owned(), String::new(), letter.heading.to_owned(), String::new()]);
    lines.extend(wrap(letter.body));
    let per_page = ((PAGE_HEIGHT - 2.0 * MARGIN) / LEADING) as usize;
    let pages: Vec<&[String]> = lines.chunks(per_page.max(1)).collect();

    let mut pdf = Pdf::new();
    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let font_id = Ref::new(3);
    let font_name = Name(b"F1");
    let page_ids: Vec<Ref> = (0..pages.len()).map(|index| Ref::new(4 + 2 * index as i32)).collect();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id).kids(page_ids.iter().copied()).count(pages.len() as i32);
    pdf.type1_font(font_id).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    for (index, page_lines) in pages.iter().enumerate() {
        let page_id = page_ids[index];
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
        page.parent(tree_id);
        page.contents(content_id);
        page.resources().fonts().pair(font_name, font_id);
        page.finish();
        let mut content = Content::new();
        content.begin_text();
        content.set_font(font_name, FONT_SIZE);
        content.set_leading(LEADING);
        content.next_line(MARGIN, PAGE_HEIGHT - MARGIN);
        for line in page_lines.iter() {
            content.show(Str(&win_ansi(line)));
            content.next_line_using_leading();
        }
        content.end_text();
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_letter_is_a_pdf_holding_its_text() {
        let address = vec!["Ada Lovelace".to_owned(), "1 Example Street".to_owned()];
        let bytes = render_pdf(&LetterText {
            address: &address,
            date: "22 November 2026",
            heading: "Your annual review",
            body: "Dear Ada,\nPlease book your review.",
        });
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.ends_with(b"%%EOF") || bytes.ends_with(b"%%EOF\n"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("(Your annual review) Tj"), "uncompressed text stream");
        assert!(text.contains("(1 Example Street) Tj"));
        assert!(text.contains("/Count 1"));
    }

    #[test]
    fn long_letters_run_onto_more_pages_and_unencodable_text_is_replaced() {
        let body = "word ".repeat(6000);
        let bytes = render_pdf(&LetterText { address: &[], date: "d", heading: "Ωmega", body: &body });
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("/Count 1\n") && text.contains("/Count "), "several pages");
        assert!(text.contains("(?mega) Tj"));
        assert_eq!(win_ansi("Zoë"), b"Zo\xeb");
    }

    proptest! {
        #[test]
        fn wrapped_lines_fit_and_keep_every_word(words in proptest::collection::vec("[a-zé]{1,20}", 0..200)) {
            let text = words.join(" ");
            let lines = wrap(&text);
            prop_assert!(lines.iter().all(|line| line.chars().count() <= LINE_CHARS));
            let rejoined: Vec<&str> = lines.iter().flat_map(|line| line.split_whitespace()).collect();
            prop_assert_eq!(rejoined, words.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }
}
