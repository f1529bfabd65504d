// The data subject page: read one user, export everything the platform holds about them
// (GET /usuarios/{id}/dados, saved as a JSON file) or erase them (DELETE /usuarios/{id}),
// then follow the erasure's status until it is final. The API decides who may: admins,
// or the caller that created the user.
"use strict";

const STATUS_POLL_MS = 500;

let shownUser = null;

async function readPerson(event) {
  event.preventDefault();
  const userId = document.getElementById("person-id").value.trim();
  showProblem("people-error", "");
  const { status, body } = await getJson(`/usuarios/${encodeURIComponent(userId)}`);
  showKeyState(status, "read");
  document.getElementById("person").hidden = status !== 200;
  if (status !== 200) {
    shownUser = null;
    showProblem("people-error", body.error || `resposta ${status}`);
    return;
  }
  shownUser = userId;
  document.getElementById("person-title").textContent = userId;
  document.getElementById("person-profile").textContent = JSON.stringify(body, null, 2);
}

async function exportPerson() {
  const answer = await fetch(`/usuarios/${shownUser}/dados`, { headers: apiHeaders(), cache: "no-store" });
  const body = await answer.json();
  if (answer.status !== 200) {
    showProblem("people-error", body.error || `resposta ${answer.status}`);
    return;
  }
  const file = new Blob([JSON.stringify(body, null, 2)], { type: "application/json" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(file);
  link.download = `usuario-${shownUser}-dados.json`;
  link.click();
  URL.revokeObjectURL(link.href);
}

async function erasePerson() {
  if (!window.confirm(`Apagar os dados pessoais do usuário ${shownUser}? Não há como desfazer.`)) return;
  const answer = await fetch(`/usuarios/${shownUser}`, { method: "DELETE", headers: apiHeaders() });
  const body = await answer.json();
  if (answer.status !== 202) {
    showProblem("people-error", body.error || `resposta ${answer.status}`);
    return;
  }
  document.getElementById("person").hidden = true;
  document.getElementById("erasure").hidden = false;
  document.getElementById("erasure-id").textContent = body.correlation_id;
  await followStatus(body.status_url);
}

// Poll the erasure's status until it is final; its message says what each store removed.
async function followStatus(statusUrl) {
  for (;;) {
    const { status, body } = await getJson(statusUrl);
    if (status === 200 && body.status !== "pendente") {
      document.getElementById("erasure-status").textContent = body.status;
      document.getElementById("erasure-message").textContent = body.message || "";
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, STATUS_POLL_MS));
  }
}

setupKeyField();
document.getElementById("person-form").addEventListener("submit", readPerson);
document.getElementById("export").addEventListener("click", exportPerson);
document.getElementById("erase").addEventListener("click", erasePerson);
