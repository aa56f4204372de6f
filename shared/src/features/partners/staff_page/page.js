// The partner booking staff page: calls the admin JSON API with the token typed in, and writes
// every value into the page as text (never as HTML).
'use strict';

const $ = (id) => document.getElementById(id);
let hold = null;

function say(text, isError) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
}

async function api(method, path, body) {
  const clinic = encodeURIComponent($('clinic').value.trim());
  const response = await fetch(`/admin/clinics/${clinic}${path}`, {
    method,
    headers: { authorization: `Bearer ${$('token').value.trim()}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const fields = (json && json.errors ? json.errors : []).map((e) => `${e.field}: ${e.message}`).join('; ');
    throw new Error(`${json ? json.detail : response.status}${fields ? ` (${fields})` : ''}`);
  }
  return json;
}

function fill(select, options) {
  select.replaceChildren(...options.map(([value, label]) => {
    const option = document.createElement('option');
    option.value = value;
    option.textContent = label;
    return option;
  }));
}

function button(label, onClick) {
  const item = document.createElement('li');
  const control = document.createElement('button');
  control.type = 'button';
  control.textContent = label;
  control.addEventListener('click', onClick);
  item.append(control);
  return item;
}

async function loadOffer() {
  const partner = encodeURIComponent($('partner').value);
  const qualification = encodeURIComponent($('qualification').value);
  const offer = await api('GET', `/partner-booking?partner_id=${partner}&qualification=${qualification}`);
  if (!$('qualification').options.length || !qualification) {
    const chosen = $('qualification').value;
    fill($('qualification'), [['', 'Any qualification'], ...offer.qualifications.map((q) => [q, q])]);
    $('qualification').value = chosen;
  }
  fill($('provider'), [['any', 'Any doctor'], ...offer.providers.map((p) => [p.id, `${p.name}, ${p.professional_title}`])]);
  fill($('service'), offer.services.map((s) => [s.booking_type_id, `${s.name} (${s.duration_minutes} minutes)`]));
  $('slots').replaceChildren();
}

async function showSlots() {
  const query = new URLSearchParams({
    partner_id: $('partner').value,
    booking_type_id: $('service').value,
    provider_id: $('provider').value,
    qualification: $('qualification').value,
  });
  const answer = await api('GET', `/partner-booking/slots?${query}`);
  const names = new Map([...$('provider').options].map((o) => [o.value, o.textContent]));
  const format = new Intl.DateTimeFormat('en-GB', { timeZone: answer.time_zone, dateStyle: 'full', timeStyle: 'short' });
  $('slots').replaceChildren(...answer.slots.slice(0, 40).map((slot) => button(
    `Start the reservation: ${format.format(new Date(slot.starts_at))} with ${names.get(slot.provider_id) || 'a doctor'}`,
    () => startReservation(slot, format).catch((error) => say(error.message, true)),
  )));
  say(answer.slots.length ? `${answer.slots.length} free slots` : 'No free slots in the next two weeks');
}

async function startReservation(slot, format) {
  hold = await api('POST', '/partner-holds', {
    partner_id: $('partner').value,
    booking_type_id: $('service').value,
    provider_id: slot.provider_id,
    location_id: slot.location_id,
    starts_at: slot.starts_at,
  });
  $('held').textContent = `Held: ${format.format(new Date(hold.starts_at))}, until ${new Date(hold.held_until).toLocaleTimeString('en-GB')}.`;
  $('patient').hidden = false;
  say('Slot held for 5 minutes: find or add the patient');
  $('search').focus();
}

async function book(reference) {
  const appointment = await api('POST', `/partner-holds/${hold.id}/confirm`, {
    patient_reference: reference,
    notify: $('notify').checked,
  });
  say(`Booked for ${appointment.patient_name} at ${appointment.local_start} (partner booking ${appointment.partner_id})`);
  $('patient').hidden = true;
  $('found').replaceChildren();
  hold = null;
}

async function find() {
  const answer = await api('GET', `/patients?search=${encodeURIComponent($('search').value)}`);
  $('found').replaceChildren(...answer.items.map((p) => button(
    `Book for ${p.first_name} ${p.last_name}, born ${p.date_of_birth} (${p.reference})`,
    () => book(p.reference).catch((error) => say(error.message, true)),
  )));
  say(answer.items.length ? `${answer.items.length} patients found` : 'No patient found: add a new one');
}

async function add() {
  const reference = $('reference').value.trim();
  const patient = await api('POST', '/patients', {
    reference: reference || undefined,
    confirm_duplicate: $('confirm_duplicate').checked,
    patient: Object.fromEntries(['first_name', 'last_name', 'date_of_birth', 'mobile', 'email'].map((f) => [f, $(f).value])),
  });
  await book(patient.reference);
}

const guard = (work) => () => work().catch((error) => say(error.message, true));

$('start').addEventListener('submit', (event) => {
  event.preventDefault();
  guard(async () => {
    const partners = await api('GET', '/partners');
    fill($('partner'), partners.items.map((p) => [p.id, p.name]));
    fill($('qualification'), []);
    $('choose').hidden = false;
    await loadOffer();
    say(`${partners.items.length} partners`);
  })();
});
$('partner').addEventListener('change', guard(async () => { fill($('qualification'), []); await loadOffer(); }));
$('qualification').addEventListener('change', guard(loadOffer));
$('show-slots').addEventListener('click', guard(showSlots));
$('find').addEventListener('click', guard(find));
$('add').addEventListener('click', guard(add));
