// Retrain page: poll the job while it trains or evaluates; reload when it is done.
(function () {
  const job = document.getElementById("job");
  if (!job || !["training", "evaluating"].includes(job.dataset.status)) return;
  const bar = document.getElementById("progress");
  const percent = document.getElementById("percent");
  const step = document.getElementById("job-step");
  const status = document.getElementById("job-status");
  async function poll() {
    const response = await fetch("/api/retrain");
    if (!response.ok) return setTimeout(poll, 3000);
    const state = await response.json();
    bar.value = state.progress;
    percent.textContent = Math.round(state.progress * 100) + "%";
    step.textContent = state.step;
    status.textContent = state.status;
    if (["training", "evaluating"].includes(state.status)) setTimeout(poll, 1000);
    else window.location.reload();
  }
  setTimeout(poll, 1000);
})();
