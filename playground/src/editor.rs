//! What the ComfyUI stand-in does to a picture: a plain, visible filter chosen by the job's
//! preset (sepia, pencil edges, a winter tint…). It is a stand-in, not Qwen-Image-Edit.
//! An album's other pictures (up to two more) are laid into the first one as framed insets
//! along its bottom edge before the filter, so every input shows in the result.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

/// The longest side of an edited picture (bigger inputs are scaled down first).
pub const MAX_SIDE: u32 = 1280;

/// One visible operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Brown, old-photo tones.
    Sepia,
    /// Dark strokes on white: a pencil drawing of the edges.
    Edges,
    /// Few flat colours, boosted saturation.
    Posterize,
    /// Black and white.
    Grayscale,
    /// A cold blue tint, lighter.
    WinterTint,
    /// A warm orange tint.
    SunsetTint,
    /// Inverted colours.
    Invert,
}

impl Operation {
    /// The operation the stand-in applies for a preset (`None`: a custom prompt).
    pub fn for_preset(preset: Option<&str>) -> Operation {
        match preset {
            Some("pencil_sketch") => Operation::Edges,
            Some("anime" | "oil_painting") => Operation::Posterize,
            Some("professional_headshot" | "remove_background") => Operation::Grayscale,
            Some("restore_old_photo") => Operation::Sepia,
            Some("winter") => Operation::WinterTint,
            Some("beach_background" | "smile") => Operation::SunsetTint,
            _ => Operation::Invert,
        }
    }

    /// Its name, as shown in the log.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Sepia => "sepia",
            Operation::Edges => "edges",
            Operation::Posterize => "posterize",
            Operation::Grayscale => "grayscale",
            Operation::WinterTint => "winter tint",
            Operation::SunsetTint => "sunset tint",
            Operation::Invert => "invert",
        }
    }
}

/// Decodes `input`, applies `op` and encodes a PNG; `None` when `input` is not an image.
pub fn edit(input: &[u8], op: Operation) -> Option<Vec<u8>> {
    edit_all(&[input.to_vec()], op)
}

/// Decodes the first input, lays the other inputs into it ([`compose`]), applies `op` and
/// encodes a PNG; `None` when the first input is not an image (others that are not are
/// left out).
pub fn edit_all(inputs: &[Vec<u8>], op: Operation) -> Option<Vec<u8>> {
    let (first, rest) = inputs.split_first()?;
    let base = decode(first)?;
    let others: Vec<RgbImage> = rest.iter().filter_map(|b| decode(b)).collect();
    let out = apply(&compose(&base, &others), op);
    let mut png = Vec::new();
    DynamicImage::ImageRgb8(out)
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .ok()?;
    Some(png)
}

/// An RGB picture at most [`MAX_SIDE`] on its longest side.
fn decode(bytes: &[u8]) -> Option<RgbImage> {
    let img = image::load_from_memory(bytes).ok()?;
    let img = if img.width().max(img.height()) > MAX_SIDE {
        img.thumbnail(MAX_SIDE, MAX_SIDE)
    } else {
        img
    };
    Some(img.to_rgb8())
}

/// `base` with each of `others` scaled into a white-framed inset about a third of its
/// shorter side, side by side in their order along its bottom edge, flush right.
pub fn compose(base: &RgbImage, others: &[RgbImage]) -> RgbImage {
    let mut out = base.clone();
    let (w, h) = base.dimensions();
    let side = (w.min(h) / 3).max(6);
    let frame = i64::from((side / 30).max(2));
    let thumbs: Vec<RgbImage> = others
        .iter()
        .map(|img| {
            DynamicImage::ImageRgb8(img.clone())
                .thumbnail(side, side)
                .to_rgb8()
        })
        .collect();
    let total: i64 = thumbs
        .iter()
        .map(|t| i64::from(t.width()) + frame * 3)
        .sum();
    let mut x = i64::from(w) - total;
    for thumb in &thumbs {
        let (tw, th) = (i64::from(thumb.width()), i64::from(thumb.height()));
        let y = i64::from(h) - th - frame * 3;
        let white = RgbImage::from_pixel(
            thumb.width() + 2 * frame as u32,
            thumb.height() + 2 * frame as u32,
            Rgb([255, 255, 255]),
        );
        image::imageops::overlay(&mut out, &white, x - frame, y - frame);
        image::imageops::overlay(&mut out, thumb, x, y);
        x += tw + frame * 3;
    }
    out
}

/// `op` on an RGB picture.
pub fn apply(img: &RgbImage, op: Operation) -> RgbImage {
    match op {
        Operation::Edges => edges(img),
        _ => map_pixels(img, |p| pixel(p, op)),
    }
}

fn map_pixels(img: &RgbImage, f: impl Fn([f32; 3]) -> [f32; 3]) -> RgbImage {
    let mut out = img.clone();
    for p in out.pixels_mut() {
        let v = f([f32::from(p[0]), f32::from(p[1]), f32::from(p[2])]);
        *p = Rgb(v.map(|c| c.clamp(0.0, 255.0) as u8));
    }
    out
}

fn luma([r, g, b]: [f32; 3]) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}

fn pixel(p: [f32; 3], op: Operation) -> [f32; 3] {
    let [r, g, b] = p;
    match op {
        Operation::Sepia => [
            0.393 * r + 0.769 * g + 0.189 * b,
            0.349 * r + 0.686 * g + 0.168 * b,
            0.272 * r + 0.534 * g + 0.131 * b,
        ],
        Operation::Grayscale => [luma(p); 3],
        Operation::Posterize => {
            let l = luma(p);
            p.map(|c| ((l + (c - l) * 1.8) / 64.0).round() * 64.0)
        }
        Operation::WinterTint => [r * 0.75 + 40.0, g * 0.9 + 40.0, b * 1.1 + 60.0],
        Operation::SunsetTint => [r * 1.15 + 35.0, g * 0.9 + 10.0, b * 0.6],
        Operation::Invert | Operation::Edges => p.map(|c| 255.0 - c),
    }
}

/// Sobel edge strength, drawn dark on white.
fn edges(img: &RgbImage) -> RgbImage {
    let (w, h) = img.dimensions();
    let gray: Vec<f32> = img.pixels().map(|p| luma(p.0.map(f32::from))).collect();
    let at = |x: u32, y: u32| gray[(y.min(h - 1) * w + x.min(w - 1)) as usize];
    RgbImage::from_fn(w, h, |x, y| {
        let (xl, yu) = (x.saturating_sub(1), y.saturating_sub(1));
        let gx = at(x + 1, yu) + 2.0 * at(x + 1, y) + at(x + 1, y + 1)
            - at(xl, yu)
            - 2.0 * at(xl, y)
            - at(xl, y + 1);
        let gy = at(xl, y + 1) + 2.0 * at(x, y + 1) + at(x + 1, y + 1)
            - at(xl, yu)
            - 2.0 * at(x, yu)
            - at(x + 1, yu);
        let v = (255.0 - (gx * gx + gy * gy).sqrt()).clamp(0.0, 255.0) as u8;
        Rgb([v, v, v])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RgbImage {
        RgbImage::from_fn(32, 24, |x, y| Rgb([(x * 8) as u8, (y * 10) as u8, 128]))
    }

    #[test]
    fn every_operation_changes_the_picture() {
        for op in [
            Operation::Sepia,
            Operation::Edges,
            Operation::Posterize,
            Operation::Grayscale,
            Operation::WinterTint,
            Operation::SunsetTint,
            Operation::Invert,
        ] {
            assert_ne!(apply(&sample(), op), sample(), "{}", op.name());
        }
    }

    #[test]
    fn edit_answers_a_png_or_none_for_a_non_image() {
        let mut png = Vec::new();
        DynamicImage::ImageRgb8(sample())
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .expect("encode");
        let out = edit(&png, Operation::Sepia).expect("an image");
        assert_eq!(image::guess_format(&out).ok(), Some(ImageFormat::Png));
        assert!(edit(b"not an image", Operation::Sepia).is_none());
    }

    #[test]
    fn an_album_shows_every_input_in_the_result() {
        let plain = |c: u8| RgbImage::from_pixel(120, 90, Rgb([c, c, c]));
        let encode = |img: RgbImage| {
            let mut png = Vec::new();
            DynamicImage::ImageRgb8(img)
                .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
                .expect("encode");
            png
        };
        let inputs = [plain(0), plain(100), plain(200)].map(encode);
        let out = edit_all(&inputs, Operation::Grayscale).expect("an image");
        let out = image::load_from_memory(&out).expect("decode").to_rgb8();
        assert_eq!(out.dimensions(), (120, 90), "the first input's size");
        let values: std::collections::HashSet<u8> = out.pixels().map(|p| p[0]).collect();
        for v in [0, 100, 200, 255] {
            assert!(values.contains(&v), "{v} (inputs and frames) in {values:?}");
        }
        assert_eq!(out.get_pixel(5, 5)[0], 0, "the first input fills the rest");
        assert!(edit_all(&[], Operation::Sepia).is_none());
    }

    #[test]
    fn presets_pick_distinct_visible_operations() {
        assert_eq!(
            Operation::for_preset(Some("pencil_sketch")),
            Operation::Edges
        );
        assert_eq!(
            Operation::for_preset(Some("restore_old_photo")),
            Operation::Sepia
        );
        assert_eq!(Operation::for_preset(None), Operation::Invert);
    }
}
