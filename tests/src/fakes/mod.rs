pub mod comfyui;
pub mod telegram;
pub mod yookassa;
