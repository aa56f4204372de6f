// Drives a booking link in real headless Chromium: staff send it through the admin API, the
// patient opens it, books on a phone-sized screen (and without JavaScript), later verifies on the
// manage link and reschedules; every page passes axe, and the history reads sent → accessed →
// booked → rescheduled.
//
// Usage: node booking-link-flow.mjs BASE_URL ADMIN_TOKEN
import { awaitMessage, accessible, adminApi, arguments_, assert, check, fitsThePhone, launch, phone, report } from './harness.mjs';

const { base, token } = arguments_();
const browser = await launch();

const admin = adminApi(base, token);

async function idNamed(path, field, name) {
  const list = await admin('GET', `${path}?limit=100`);
  const found = list.items.find((item) => item[field] === name);
  assert(found, `${name} not found in ${path}`);
  return found.id;
}

async function history(reference) {
  return (await admin('GET', `/admin/clinics/demo/patients/${reference}/booking-links`)).items;
}

try {
  const gp = await idNamed('/admin/clinics/demo/booking-types', 'long_name', 'GP consultation');
  const amara = await idNamed('/admin/clinics/demo/providers', 'name', 'Dr Amara Okafor');
  const tom = await idNamed('/admin/clinics/demo/providers', 'name', 'Dr Tom Lindqvist');
  const riverside = await idNamed('/admin/clinics/demo/locations', 'full_name', 'Riverside Surgery');
  const hillview = await idNamed('/admin/clinics/demo/locations', 'full_name', 'Hillview Health Centre');
  const rule = await admin('POST', '/admin/clinics/demo/broadcast-rules', {
    title: 'GP review',
    booking_type_id: gp,
    provider_ids: [amara, tom],
    location_ids: [riverside, hillview],
    link_lifetime_hours: 72,
    allow_reschedule: true,
    sms_template: 'Hi {first_name}, please book your review with {clinic}: {link}',
    welcome: { body: '<h2>Your GP review</h2><p>Please <strong>book a time</strong> that suits you.</p>' },
    confirmation: { phone: '+441632960123', website_url: 'https://www.example.com', text: 'Bring your medication list.' },
  });

  await check('staff text a link; the patient books on a phone, then reschedules after verifying', async () => {
    const sent = await admin('POST', '/admin/clinics/demo/booking-links', {
      rule_id: rule.id,
      patient_reference: 'MRN-B1',
      patient: { first_name: 'Robin', last_name: 'Example', date_of_birth: '1984-02-29', mobile: '+447700900150', email: 'robin@example.com' },
    });
    assert(sent.sms.status === 'sent', `the SMS was not sent: ${JSON.stringify(sent.sms)}`);
    const context = await browser.newContext(phone);
    const page = await context.newPage();

    const welcome = await page.goto(sent.url);
    assert(welcome.status() === 200, `the link answered ${welcome.status()}`);
    assert((await page.textContent('h2')).includes('Your GP review'), 'the welcome content is missing');
    await accessible(page, 'welcome');
    await fitsThePhone(page, 'welcome');
    await Promise.all([page.waitForNavigation(), page.click('text=Continue to book appointment')]);
    assert((await page.textContent('h1')).includes('Choose a time'), 'the times page is missing');
    await accessible(page, 'link times');
    await fitsThePhone(page, 'link times');
    const slot = page.locator('ul.slots button').first();
    const label = await slot.getAttribute('aria-label');
    await Promise.all([page.waitForNavigation(), slot.click()]);
    assert((await page.textContent('dl')).includes(label), 'the review does not repeat the chosen time');
    await accessible(page, 'link review');
    const [booked] = await Promise.all([page.waitForNavigation(), page.click('text=Confirm appointment')]);
    assert(booked.status() === 201, `confirm answered ${booked.status()}`);
    assert((await page.textContent('h1')).includes('Your appointment is booked'), 'the confirmation is missing');
    assert((await page.textContent('main')).includes('+441632960123'), 'the clinic phone is missing');
    await accessible(page, 'link confirmation');

    // Opening the link again shows the confirmation, not the booking screens.
    await page.goto(sent.url);
    assert((await page.textContent('h1')).includes('Your appointment is booked'), 'a used link offered booking again');
    assert((await page.locator('ul.slots').count()) === 0, 'a used link shows slots');
    let links = await history('MRN-B1');
    assert(links[0].events.map((e) => e.status).join(' ') === 'sent accessed booked', `history: ${JSON.stringify(links[0].events)}`);

    const confirmation = await awaitMessage(base, (m) => m.to === '+447700900150' && m.body.includes('/manage/'),
      'confirmation SMS with a manage link');
    const manageUrl = confirmation.body.split(/\s+/).find((word) => word.includes('/manage/'));

    await page.goto(manageUrl);
    await accessible(page, 'verification');
    await page.fill('#date_of_birth', '1984-03-01');
    await Promise.all([page.waitForNavigation(), page.click('text=Continue')]);
    assert((await page.textContent('#date_of_birth-error')).includes('Attempts left: 4'), 'a wrong answer was not refused');
    await accessible(page, 'verification with error');
    await page.fill('#date_of_birth', '1984-02-29');
    await Promise.all([page.waitForNavigation(), page.click('text=Continue')]);
    assert((await page.textContent('main')).includes('Bring your medication list.'), 'the rule information is missing');
    await accessible(page, 'manage');
    await fitsThePhone(page, 'manage');
    const another = page.locator('ul.slots button').nth(1);
    const newLabel = await another.getAttribute('aria-label');
    await Promise.all([page.waitForNavigation(), another.click()]);
    await accessible(page, 'reschedule review');
    await Promise.all([page.waitForNavigation(), page.click('text=Confirm new time')]);
    assert((await page.textContent('h1')).includes('Your appointment has been moved'), 'the reschedule did not happen');
    assert((await page.textContent('dl')).includes(newLabel.split(' at ')[1]), 'the new time is not shown');
    await accessible(page, 'rescheduled');
    await context.close();

    links = await history('MRN-B1');
    assert(links[0].events.map((e) => e.status).join(' ') === 'sent accessed booked rescheduled', `history: ${JSON.stringify(links[0].events)}`);
    assert(links[0].appointment.history.some((r) => r.action === 'appointment.rescheduled'), 'the appointment history lacks the reschedule');
  });

  await check('a link books without JavaScript', async () => {
    const sent = await admin('POST', '/admin/clinics/demo/booking-links', {
      rule_id: rule.id,
      patient_reference: 'MRN-B3',
      patient: { first_name: 'Sasha', last_name: 'Example', date_of_birth: '1979-05-05', mobile: '+447700900152', email: 'sasha@example.com' },
    });
    const context = await browser.newContext({ ...phone, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(sent.url);
    await Promise.all([page.waitForNavigation(), page.click('text=Continue to book appointment')]);
    await Promise.all([page.waitForNavigation(), page.locator('ul.slots button').first().click()]);
    const [booked] = await Promise.all([page.waitForNavigation(), page.click('text=Confirm appointment')]);
    assert(booked.status() === 201, `confirm answered ${booked.status()}`);
    await context.close();
  });

  await check('a link speaks French to a French browser', async () => {
    const sent = await admin('POST', '/admin/clinics/demo/booking-links', {
      rule_id: rule.id,
      patient_reference: 'MRN-B2',
      patient: { first_name: 'Camille', last_name: 'Example', date_of_birth: '1990-07-14', mobile: '+447700900151', email: 'camille@example.com' },
    });
    const context = await browser.newContext({ ...phone, locale: 'fr-FR' });
    const page = await context.newPage();
    await page.goto(sent.url);
    assert((await page.getAttribute('html', 'lang')) === 'fr', 'html lang is not fr');
    assert((await page.textContent('main')).includes('Continuer vers la prise de rendez-vous'), 'French text missing');
    await accessible(page, 'French welcome');
    await context.close();
  });
} finally {
  await browser.close();
}

report();
