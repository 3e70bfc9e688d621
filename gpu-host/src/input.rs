//! Input images are checked and normalized before they reach ComfyUI (and the GPU lock).
//!
//! ComfyUI's `LoadImage` decodes every frame of an animated file and any size up to PIL's
//! limit, so a crafted file could stall a host. Each input is therefore looked at here first:
//! the header gives the format and the dimensions (nothing is decoded before the pixel count
//! is known to be within `MAX_MEGAPIXELS`), the container tells whether it has more than one
//! frame, and only then is the first frame decoded, under allocation limits, turned upright
//! (EXIF orientation) and written as a PNG. What goes to ComfyUI is that PNG, never the
//! user's bytes as sent.

use std::io::Cursor;

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPDecoder;
use image::{AnimationDecoder, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use qwen_contract::FailureReason;

/// Why an input image is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Not an image the host decodes (JPEG, PNG, WebP, GIF), or a broken one.
    #[error("input is not a decodable image: {0}")]
    Undecodable(String),
    /// More pixels than the host accepts.
    #[error("input of {width}×{height} pixels is over the limit")]
    TooManyPixels {
        /// Width, pixels.
        width: u32,
        /// Height, pixels.
        height: u32,
    },
    /// More than one frame.
    #[error("input is animated")]
    Animated,
    /// More images than the workflow takes.
    #[error("{given} images for a workflow that takes {takes}")]
    TooManyImages {
        /// Images the job carries.
        given: usize,
        /// Images the workflow takes.
        takes: usize,
    },
}

impl InputError {
    /// The failure reason the job ends with (the user reads its text).
    pub fn reason(&self) -> FailureReason {
        match self {
            InputError::Undecodable(_) => FailureReason::InputUndecodable,
            InputError::TooManyPixels { .. } => FailureReason::InputTooManyPixels,
            InputError::Animated => FailureReason::InputAnimated,
            InputError::TooManyImages { .. } => FailureReason::InputTooManyImages,
        }
    }
}

/// Refuses a job with more images than its workflow takes, before anything is downloaded.
///
/// # Errors
/// [`InputError::TooManyImages`].
pub fn check_count(given: usize, takes: usize) -> Result<(), InputError> {
    if given > takes {
        return Err(InputError::TooManyImages { given, takes });
    }
    Ok(())
}

/// Checks one downloaded image and returns it as a PNG of its first (only) frame, upright.
///
/// # Errors
/// [`InputError::Undecodable`], [`InputError::TooManyPixels`], [`InputError::Animated`].
pub fn normalize(bytes: &[u8], max_megapixels: u32) -> Result<Vec<u8>, InputError> {
    let max_pixels = u64::from(max_megapixels) * 1_000_000;
    let format = sniff(bytes)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.no_limits();
    // Only the header is read here; the limits apply from the decode on.
    let mut decoder = reader.into_decoder().map_err(undecodable)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(InputError::TooManyPixels { width, height });
    }
    decoder
        .set_limits(limits(max_pixels))
        .map_err(undecodable)?;
    if frames_over_one(bytes, format, max_pixels)? {
        return Err(InputError::Animated);
    }
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).map_err(undecodable)?;
    if let Some(o) = orientation {
        image.apply_orientation(o);
    }
    encode_png(&image)
}

/// The image format from the first bytes; only the formats Telegram users send.
fn sniff(bytes: &[u8]) -> Result<ImageFormat, InputError> {
    let format = image::guess_format(bytes).map_err(undecodable)?;
    match format {
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif => Ok(format),
        other => Err(InputError::Undecodable(format!(
            "{other:?} is not accepted"
        ))),
    }
}

/// Allocation limits fit for `max_pixels` (16-bit RGBA at most, plus room).
fn limits(max_pixels: u64) -> Limits {
    let mut limits = Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(64 << 20));
    limits
}

/// Whether the container holds more than one frame (read from its headers; a GIF's frames
/// are counted up to two).
fn frames_over_one(bytes: &[u8], format: ImageFormat, max_pixels: u64) -> Result<bool, InputError> {
    match format {
        ImageFormat::Png => Ok(apng_frames(bytes).is_some_and(|n| n > 1)),
        ImageFormat::WebP => Ok(WebPDecoder::new(Cursor::new(bytes))
            .map_err(undecodable)?
            .has_animation()),
        ImageFormat::Gif => {
            let mut decoder =
                image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(undecodable)?;
            decoder
                .set_limits(limits(max_pixels))
                .map_err(undecodable)?;
            Ok(decoder.into_frames().take(2).count() > 1)
        }
        _ => Ok(false),
    }
}

/// The frame count of an animated PNG (its `acTL` chunk, which comes before the image
/// data), `None` for a still PNG.
fn apng_frames(bytes: &[u8]) -> Option<u32> {
    let mut at = 8;
    while let Some(head) = bytes.get(at..at + 8) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        match &head[4..8] {
            b"acTL" => {
                let data = bytes.get(at + 8..at + 12)?;
                return Some(u32::from_be_bytes([data[0], data[1], data[2], data[3]]));
            }
            b"IDAT" | b"IEND" => return None,
            _ => at = at.checked_add(12)?.checked_add(len)?,
        }
    }
    None
}

fn encode_png(image: &DynamicImage) -> Result<Vec<u8>, InputError> {
    let mut out = Vec::new();
    let encoder =
        PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive);
    image
        .write_with_encoder(encoder)
        .map_err(|e| InputError::Undecodable(format!("re-encoding: {e}")))?;
    Ok(out)
}

fn undecodable(e: impl std::fmt::Display) -> InputError {
    InputError::Undecodable(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::gif::{GifEncoder, Repeat};
    use image::{Delay, Frame, RgbImage, RgbaImage};

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        RgbImage::new(width, height)
            .write_with_encoder(PngEncoder::new(&mut out))
            .expect("png");
        out
    }

    fn gif(frames: usize) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = GifEncoder::new(&mut out);
            enc.set_repeat(Repeat::Infinite).expect("repeat");
            for _ in 0..frames {
                let frame = Frame::from_parts(
                    RgbaImage::new(4, 4),
                    0,
                    0,
                    Delay::from_numer_denom_ms(100, 1),
                );
                enc.encode_frame(frame).expect("frame");
            }
        }
        out
    }

    /// A PNG with an `acTL` chunk announcing `frames` frames (the default image decodes).
    fn apng(frames: u32) -> Vec<u8> {
        let still = png(4, 4);
        let idat = still.windows(4).position(|w| w == b"IDAT").expect("IDAT") - 4;
        let mut chunk = Vec::new();
        chunk.extend_from_slice(&8u32.to_be_bytes());
        chunk.extend_from_slice(b"acTL");
        chunk.extend_from_slice(&frames.to_be_bytes());
        chunk.extend_from_slice(&0u32.to_be_bytes());
        chunk.extend_from_slice(&[0; 4]);
        [&still[..idat], &chunk, &still[idat..]].concat()
    }

    /// A lossless still WebP wrapped as an animation of two frames (VP8X + ANIM + 2 × ANMF).
    fn animated_webp() -> Vec<u8> {
        let mut still = Vec::new();
        RgbaImage::new(4, 4)
            .write_with_encoder(image::codecs::webp::WebPEncoder::new_lossless(&mut still))
            .expect("webp");
        let vp8l = &still[12..];
        let chunk = |tag: &[u8], data: &[u8]| {
            let mut c = tag.to_vec();
            c.extend_from_slice(&(data.len() as u32).to_le_bytes());
            c.extend_from_slice(data);
            if data.len() % 2 == 1 {
                c.push(0);
            }
            c
        };
        let dims = [3u8, 0, 0, 3, 0, 0]; // canvas 4×4, stored minus one, 24-bit each
        let vp8x = chunk(b"VP8X", &[&[0x12u8, 0, 0, 0][..], &dims].concat());
        let anim = chunk(b"ANIM", &[0, 0, 0, 0, 0, 0]);
        let frame = [&[0u8; 6][..], &dims, &[100, 0, 0, 0], vp8l].concat();
        let anmf = chunk(b"ANMF", &frame);
        let body = [&b"WEBP"[..], &vp8x, &anim, &anmf, &anmf].concat();
        [&b"RIFF"[..], &(body.len() as u32).to_le_bytes(), &body].concat()
    }

    #[test]
    fn a_still_image_becomes_a_png_of_the_same_size() {
        let mut jpeg = Vec::new();
        RgbImage::new(30, 20)
            .write_with_encoder(image::codecs::jpeg::JpegEncoder::new(&mut jpeg))
            .expect("jpeg");
        for input in [jpeg, png(30, 20), gif(1), apng(1)] {
            let out = normalize(&input, 40).expect("normalized");
            assert_eq!(image::guess_format(&out).expect("format"), ImageFormat::Png);
            let back = image::load_from_memory(&out).expect("decodes");
            assert!(back.width() == 30 || back.width() == 4, "{}", back.width());
        }
    }

    #[test]
    fn animated_oversized_and_broken_inputs_are_refused() {
        assert_eq!(normalize(&gif(2), 40), Err(InputError::Animated));
        assert_eq!(normalize(&apng(2), 40), Err(InputError::Animated));
        assert_eq!(normalize(&animated_webp(), 40), Err(InputError::Animated));
        assert_eq!(
            normalize(&png(1200, 1000), 1),
            Err(InputError::TooManyPixels {
                width: 1200,
                height: 1000
            })
        );
        assert!(matches!(
            normalize(b"not an image at all", 40),
            Err(InputError::Undecodable(_))
        ));
        let truncated = &png(30, 20)[..40];
        assert!(matches!(
            normalize(truncated, 40),
            Err(InputError::Undecodable(_))
        ));
        assert_eq!(
            check_count(2, 1).map_err(|e| e.reason()),
            Err(FailureReason::InputTooManyImages)
        );
        assert!(check_count(3, 3).is_ok());
    }
}
