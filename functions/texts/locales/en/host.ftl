# The GPU host: progress while a job runs, the result's caption, failures.

# { $bar } is ten blocks, ▓ done and ░ to go.
host_progress = ⏳ Editing your photo… { $percent }%
    { $bar }
host_done = ✅ Done!
host_failed_bad_input = 😔 I could not get your photo from Telegram: it may have been deleted. Please send it again. Your credits have been returned.
host_failed_input_too_large = 😔 The file is larger than 20 MB, which bots cannot receive. Please send a smaller photo. Your credits have been returned.
host_failed_input_undecodable = 😔 I could not open the file as an image. Please send a JPEG, PNG or WebP photo. Your credits have been returned.
# { $max } is the limit in megapixels.
host_failed_input_too_many_pixels = 😔 The image is too large: more than { $max } megapixels. Please make it smaller and send it again. Your credits have been returned.
host_failed_input_animated = 😔 Animated images are not supported. Please send a still photo. Your credits have been returned.
host_failed_input_too_many_images = 😔 This edit takes fewer photos than you sent. Please send fewer photos. Your credits have been returned.
host_failed_stalled = 😔 The edit was interrupted and did not resume. Your credits have been returned — please try again.
host_failed_timeout = 😔 The edit took too long and was stopped. Your credits have been returned.
host_failed_model = 😔 Sorry, I could not edit this photo. Your credits have been returned.
host_failed_unavailable = 😔 I cannot edit photos right now. Please try again a bit later. Your credits have been returned.
