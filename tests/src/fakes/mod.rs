pub mod comfyui;
pub mod telegram;
