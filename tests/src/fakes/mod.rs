pub mod comfyui;
