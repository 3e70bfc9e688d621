# The GPU host: progress while a job runs, the result's caption, failures.

# { $bar } is ten blocks, ▓ done and ░ to go.
host_progress = ⏳ Editing your photo… { $percent }%
    { $bar }
host_done = ✅ Done!
host_failed_bad_input = 😔 I could not get your photo: it may be larger than 20 MB. Please send a smaller one. Your credits have been returned.
host_failed_timeout = 😔 The edit took too long and was stopped. Your credits have been returned.
host_failed_model = 😔 Sorry, I could not edit this photo. Your credits have been returned.
host_failed_unavailable = 😔 I cannot edit photos right now. Please try again a bit later. Your credits have been returned.
