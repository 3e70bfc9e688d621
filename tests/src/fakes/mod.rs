pub mod telegram;
pub mod comfyui;
