//! A clinic's uploaded logo: a PNG or a JPEG, checked once when it is uploaded (format, size,
//! dimensions), then served on the patient pages and drawn on letters. For a letter it becomes a
//! PDF image: a JPEG as it is (`DCTDecode`), a PNG decoded with the `png` crate into 8-bit colour
//! and, when it has transparency, a soft mask. Pure: bytes in, bytes out.

use serde::{Deserialize, Serialize};

use super::validation::FieldError;

/// Most bytes a logo may have (it is stored beside the clinic's profile).
pub const MAX_LOGO_BYTES: usize = 200 * 1024;
/// Most pixels a side may have.
const MAX_SIDE: u32 = 2000;

/// The image formats a logo may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogoFormat {
    /// `image/png`.
    Png,
    /// `image/jpeg`.
    Jpeg,
}

impl LogoFormat {
    /// The media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }
}

/// A checked logo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicLogo {
    /// Its format.
    pub format: LogoFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The file as uploaded.
    pub bytes: Vec<u8>,
}

/// A logo as a PDF image XObject's parts.
pub struct PdfImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `DeviceRGB` or `DeviceGray`.
    pub colour: PdfColour,
    /// The image data, compressed as `filter` says.
    pub data: Vec<u8>,
    /// `DCTDecode` (a JPEG) or `FlateDecode`.
    pub filter: PdfFilter,
    /// The alpha channel, 8-bit grey, Flate-compressed (a PNG with transparency).
    pub soft_mask: Option<Vec<u8>>,
}

/// A PDF colour space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PdfColour {
    /// Three components.
    Rgb,
    /// One component.
    Gray,
}

/// A PDF stream filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PdfFilter {
    /// JPEG.
    Dct,
    /// zlib.
    Flate,
}

fn invalid(message: &str) -> FieldError {
    FieldError::new("body", message)
}

impl ClinicLogo {
    /// Checks an upload: `content_type` must match the bytes, at most 200 KiB and 2000 pixels a
    /// side, and the image must decode (a PNG) or have a frame header (a JPEG).
    pub fn parse(content_type: &str, bytes: Vec<u8>) -> Result<Self, FieldError> {
        if bytes.is_empty() {
            return Err(invalid("must be a PNG or JPEG image"));
        }
        if bytes.len() > MAX_LOGO_BYTES {
            return Err(invalid("must be at most 200 KiB"));
        }
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let (format, width, height) = match essence.as_str() {
            "image/png" => {
                let (width, height, _) = decode_png(&bytes).ok_or_else(|| invalid("is not a readable PNG image"))?;
                (LogoFormat::Png, width, height)
            }
            "image/jpeg" => {
                let frame = jpeg_frame(&bytes).ok_or_else(|| invalid("is not a readable JPEG image"))?;
                if !matches!(frame.components, 1 | 3) {
                    return Err(invalid("must be an RGB or greyscale JPEG"));
                }
                (LogoFormat::Jpeg, frame.width, frame.height)
            }
            _ => return Err(FieldError::new("Content-Type", "must be image/png or image/jpeg")),
        };
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(invalid("must be at most 2000 pixels wide and high"));
        }
        Ok(Self { format, width, height, bytes })
    }

    /// The logo as a PDF image (`None` if the stored bytes no longer decode).
    pub fn pdf_image(&self) -> Option<PdfImage> {
        match self.format {
            LogoFormat::Jpeg => {
                let frame = jpeg_frame(&self.bytes)?;
                Some(PdfImage {
                    width: frame.width,
                    height: frame.height,
                    colour: if frame.components == 1 { PdfColour::Gray } else { PdfColour::Rgb },
                    data: self.bytes.clone(),
                    filter: PdfFilter::Dct,
                    soft_mask: None,
                })
            }
            LogoFormat::Png => {
                let (width, height, pixels) = decode_png(&self.bytes)?;
                let (colour, data, alpha) = match pixels {
                    Pixels::Gray(gray) => (PdfColour::Gray, gray, None),
                    Pixels::GrayAlpha(both) => {
                        let gray = both.iter().step_by(2).copied().collect();
                        let alpha = both.iter().skip(1).step_by(2).copied().collect();
                        (PdfColour::Gray, gray, Some(alpha))
                    }
                    Pixels::Rgb(rgb) => (PdfColour::Rgb, rgb, None),
                    Pixels::Rgba(rgba) => {
                        let rgb = rgba.chunks_exact(4).flat_map(|pixel| [pixel[0], pixel[1], pixel[2]]).collect();
                        let alpha = rgba.chunks_exact(4).map(|pixel| pixel[3]).collect();
                        (PdfColour::Rgb, rgb, Some(alpha))
                    }
                };
                let deflate = |raw: &Vec<u8>| miniz_oxide::deflate::compress_to_vec_zlib(raw, 6);
                Some(PdfImage {
                    width,
                    height,
                    colour,
                    data: deflate(&data),
                    filter: PdfFilter::Flate,
                    soft_mask: alpha.filter(|alpha: &Vec<u8>| alpha.iter().any(|a| *a < 255)).map(|a| deflate(&a)),
                })
            }
        }
    }
}

enum Pixels {
    Gray(Vec<u8>),
    GrayAlpha(Vec<u8>),
    Rgb(Vec<u8>),
    Rgba(Vec<u8>),
}

/// Decodes a PNG into 8-bit samples (palettes expanded, 16-bit stripped), within a memory bound.
fn decode_png(bytes: &[u8]) -> Option<(u32, u32, Pixels)> {
    let limits = png::Limits { bytes: 4 * MAX_SIDE as usize * MAX_SIDE as usize };
    let mut decoder = png::Decoder::new_with_limits(std::io::Cursor::new(bytes), limits);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().ok()?;
    let (width, height) = reader.info().size();
    if width > MAX_SIDE || height > MAX_SIDE {
        return None;
    }
    let mut buffer = vec![0; reader.output_buffer_size()?];
    let frame = reader.next_frame(&mut buffer).ok()?;
    buffer.truncate(frame.buffer_size());
    let pixels = match frame.color_type {
        png::ColorType::Grayscale => Pixels::Gray(buffer),
        png::ColorType::GrayscaleAlpha => Pixels::GrayAlpha(buffer),
        png::ColorType::Rgb => Pixels::Rgb(buffer),
        png::ColorType::Rgba => Pixels::Rgba(buffer),
        png::ColorType::Indexed => return None,
    };
    Some((width, height, pixels))
}

struct JpegFrame {
    width: u32,
    height: u32,
    components: u8,
}

/// Reads a JPEG's frame header for its size and components. Only 8-bit baseline, extended or
/// progressive Huffman frames (SOF0, SOF1, SOF2: what every PDF reader decodes) followed by a
/// scan are accepted.
fn jpeg_frame(bytes: &[u8]) -> Option<JpegFrame> {
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut frame = None;
    let mut at = 2;
    loop {
        while *bytes.get(at)? != 0xFF {
            at += 1;
        }
        while *bytes.get(at)? == 0xFF {
            at += 1;
        }
        let marker = *bytes.get(at)?;
        at += 1;
        if matches!(marker, 0xD0..=0xD9 | 0x01) {
            continue;
        }
        let length = usize::from(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]));
        match marker {
            0xC0..=0xC2 if frame.is_none() => {
                let segment = bytes.get(at..at + length)?;
                if *segment.get(2)? != 8 {
                    return None;
                }
                let height = u32::from(u16::from_be_bytes([*segment.get(3)?, *segment.get(4)?]));
                let width = u32::from(u16::from_be_bytes([*segment.get(5)?, *segment.get(6)?]));
                frame = Some(JpegFrame { width, height, components: *segment.get(7)? });
            }
            // Any other frame type (lossless, hierarchical, arithmetic coding) is refused.
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            // The first scan: a frame must have come before it.
            0xDA => return frame,
            _ => {}
        }
        at += length.max(2);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `width` × `height` PNG of `colour`, with alpha when `alpha` is given.
    pub(crate) fn png(width: u32, height: u32, alpha: Option<u8>) -> Vec<u8> {
        let mut bytes = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut bytes, width, height);
            encoder.set_color(if alpha.is_some() { png::ColorType::Rgba } else { png::ColorType::Rgb });
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().unwrap();
            let pixel: Vec<u8> = match alpha {
                Some(a) => vec![11, 92, 173, a],
                None => vec![11, 92, 173],
            };
            let data: Vec<u8> = pixel.iter().copied().cycle().take(pixel.len() * (width * height) as usize).collect();
            writer.write_image_data(&data).unwrap();
        }
        bytes
    }

    /// The smallest JPEG head that carries a frame and a scan: SOI, an APP0 segment, a frame
    /// header (`marker`, 8-bit), a scan header.
    fn jpeg_with(marker: u8, width: u16, height: u16, components: u8) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, marker, 0x00, 0x0B, 0x08];
        bytes.extend(height.to_be_bytes());
        bytes.extend(width.to_be_bytes());
        bytes.extend([components, 0x01, 0x11, 0x00]);
        bytes.extend([0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x00, 0xFF, 0xD9]);
        bytes
    }

    fn jpeg(width: u16, height: u16, components: u8) -> Vec<u8> {
        jpeg_with(0xC0, width, height, components)
    }

    #[test]
    fn a_png_with_transparency_becomes_colour_and_a_soft_mask() {
        let logo = ClinicLogo::parse("image/png", png(40, 20, Some(128))).unwrap();
        assert_eq!((logo.format, logo.width, logo.height), (LogoFormat::Png, 40, 20));
        let image = logo.pdf_image().unwrap();
        assert_eq!(image.colour, PdfColour::Rgb);
        assert_eq!(image.filter, PdfFilter::Flate);
        let rgb = miniz_oxide::inflate::decompress_to_vec_zlib(&image.data).unwrap();
        assert_eq!(rgb.len(), 40 * 20 * 3);
        assert_eq!(&rgb[..3], &[11, 92, 173]);
        let alpha = miniz_oxide::inflate::decompress_to_vec_zlib(&image.soft_mask.unwrap()).unwrap();
        assert!(alpha.len() == 800 && alpha.iter().all(|a| *a == 128));
        let opaque = ClinicLogo::parse("image/png", png(4, 4, Some(255))).unwrap().pdf_image().unwrap();
        assert!(opaque.soft_mask.is_none(), "an opaque alpha channel needs no mask");
    }

    #[test]
    fn a_jpeg_is_kept_as_it_is_with_its_frame_size() {
        let bytes = jpeg(300, 120, 3);
        let logo = ClinicLogo::parse("image/jpeg", bytes.clone()).unwrap();
        assert_eq!((logo.width, logo.height), (300, 120));
        let image = logo.pdf_image().unwrap();
        assert_eq!((image.filter, image.colour, image.data), (PdfFilter::Dct, PdfColour::Rgb, bytes));
        assert_eq!(
            ClinicLogo::parse("image/jpeg", jpeg(10, 10, 4)).unwrap_err().message,
            "must be an RGB or greyscale JPEG"
        );
    }

    #[test]
    fn bad_uploads_name_what_is_wrong() {
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("image/png", Vec::new(), "body"),
            ("image/png", b"not a png".to_vec(), "body"),
            ("image/jpeg", png(4, 4, None), "body"),
            ("image/gif", png(4, 4, None), "Content-Type"),
            ("image/png", vec![0; MAX_LOGO_BYTES + 1], "body"),
            ("image/png", png(2001, 1, None), "body"),
            ("image/jpeg", jpeg(0, 10, 3), "body"),
            // Lossless and arithmetic-coded frames, which PDF readers need not decode.
            ("image/jpeg", jpeg_with(0xC3, 10, 10, 3), "body"),
            ("image/jpeg", jpeg_with(0xC9, 10, 10, 3), "body"),
            // A frame header but no scan: a truncated file.
            ("image/jpeg", jpeg(10, 10, 3)[..23].to_vec(), "body"),
        ];
        for (content_type, bytes, field) in cases {
            let error = ClinicLogo::parse(content_type, bytes).unwrap_err();
            assert_eq!(error.field, field, "{content_type}: {}", error.message);
        }
    }

    proptest::proptest! {
        #[test]
        fn no_bytes_make_the_parser_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let mut png_like = b"\x89PNG\r\n\x1a\n".to_vec();
            png_like.extend(bytes.iter().copied());
            for logo in [ClinicLogo::parse("image/jpeg", bytes), ClinicLogo::parse("image/png", png_like)].into_iter().flatten() {
                proptest::prop_assert!((1..=MAX_SIDE).contains(&logo.width) && (1..=MAX_SIDE).contains(&logo.height));
            }
        }
    }
}
