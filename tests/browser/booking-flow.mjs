// Drives the patient's booking pages in real headless Chromium (Debian's package) against a
// running local server, with an axe check of every page (no serious or critical violation),
// on a phone-sized screen, by keyboard where it matters, in English and in French. Playwright
// gives each launch a fresh, empty profile.
//
// Usage: node booking-flow.mjs BASE_URL ADMIN_TOKEN
import { awaitMessage, accessible, arguments_, assert, check, fitsThePhone, launch, phone, report, shoot } from './harness.mjs';

const { base, token } = arguments_();
const browser = await launch();

try {
  await check('a patient books through every step, by keyboard and mouse, and every page is accessible', async () => {
    const context = await browser.newContext(phone);
    const page = await context.newPage();
    const response = await page.goto(`${base}/book/demo`);
    assert(response.status() === 200, `booking page answered ${response.status()}`);
    assert((await page.textContent('header.clinic')).includes('Riverside Family Practice'), 'clinic name missing');
    assert((await page.textContent('footer')).includes('020 7946 0000'), 'the clinic phone is not on the page');
    const advice = await page.textContent('section.advisory');
    assert(advice.includes('call 999'), 'the advice is not shown before any choice');
    await accessible(page, 'booking types');
    await fitsThePhone(page, 'booking types');
    await shoot(page, 'book-types');

    // Choose the booking type with the keyboard only.
    let focused = '';
    for (let i = 0; i < 12 && !focused.includes('GP consultation'); i += 1) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.textContent || '');
    }
    assert(focused.includes('GP consultation'), 'the booking type is not reachable by keyboard');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert((await page.textContent('main h2')).includes('Who would you like to see'), 'provider step missing');
    assert(!(await page.textContent('main')).includes('Sam Patel'), 'the nurse is offered for a GP consultation');
    await accessible(page, 'providers');
    await shoot(page, 'book-providers');

    await Promise.all([page.waitForNavigation(), page.click('text=Any available clinician')]);
    await accessible(page, 'locations');
    await Promise.all([page.waitForNavigation(), page.click('text=Any site')]);
    assert((await page.textContent('main')).includes('Choose a time'), 'time step missing');
    await accessible(page, 'times');
    await fitsThePhone(page, 'times');
    await shoot(page, 'book-times');

    // With "any", each time names the clinician and the site; the review repeats them.
    const slot = page.locator('details[open] a.slot').first();
    const label = (await slot.textContent()).replace(/\s+/g, ' ').trim();
    const match = label.match(/^((?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) \d{1,2} \w+ 20\d\d), (\d\d:\d\d) (Dr \S+ \S+) (.+)$/);
    assert(match, `a time does not read as its date, time, clinician and site: ${label}`);
    const [, shownDay, time, who, where] = match;
    const when = `${shownDay} at ${time}`;
    await Promise.all([page.waitForNavigation(), slot.click()]);
    assert((await page.textContent('form h2')).includes('Your details'), 'details step missing');
    const review = await page.textContent('dl.review');
    assert(review.includes(when) && review.includes(who) && review.includes(where), `the review does not repeat ${label}: ${review}`);
    assert(await page.locator('dl.review a[href^="https://www.openstreetmap.org/search"]').count() === 1, 'no map link');
    await accessible(page, 'details');
    await shoot(page, 'book-details');

    // A bad mobile shows the error next to the field in the page's words, keeping what was typed.
    await page.fill('#first_name', 'Pat');
    await page.fill('#last_name', 'Example');
    await page.fill('#date_of_birth', '1980-05-17');
    await page.fill('#mobile', '0770090');
    await page.fill('#email', 'pat@example.com');
    await page.check('#advisory');
    await Promise.all([page.waitForNavigation(), page.click('button.primary')]);
    assert((await page.textContent('#mobile-error')).includes('must be a phone number'), 'mobile error missing');
    assert((await page.textContent('.errors')).includes('Mobile number:'), 'the error does not name the field as labelled');
    assert((await page.inputValue('#first_name')) === 'Pat', 'typed values were lost');
    assert((await page.getAttribute('#mobile', 'aria-invalid')) === 'true', 'the bad field is not marked invalid');
    await accessible(page, 'details with errors');

    // The national form of the number is accepted.
    await page.fill('#mobile', '07700 900123');
    await page.check('#advisory');
    await page.setInputFiles('#referral', { name: 'referral.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 referral') });
    const [confirmed] = await Promise.all([page.waitForNavigation(), page.click('button.primary')]);
    assert(confirmed.status() === 201, `confirm answered ${confirmed.status()}`);
    assert((await page.textContent('h1')).includes('Your appointment is booked'), 'outcome page missing');
    assert((await page.textContent('main')).includes('look forward to seeing you'), 'outcome message missing');
    const outcome = await page.textContent('dl.review');
    assert(outcome.includes(who) && outcome.includes(where) && outcome.includes(when), 'the confirmation does not repeat who, where and when');
    await shoot(page, 'book-confirmed');
    assert((await page.getAttribute('a.primary', 'href')) === 'https://clinic.example.com/', 'Done does not go to the redirect URL');
    await accessible(page, 'outcome');
    await fitsThePhone(page, 'outcome');
    await context.close();

    // The booking is in the diary, marked online.
    const day = when.match(/(\d{1,2}) (\w+) (20\d\d)/);
    const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
    const date = `${day[3]}-${String(months.indexOf(day[2]) + 1).padStart(2, '0')}-${day[1].padStart(2, '0')}`;
    const diary = await fetch(`${base}/admin/clinics/demo/appointments?date=${date}`, { headers: { authorization: `Bearer ${token}` } });
    const items = (await diary.json()).items;
    const booked = items.find((item) => item.channel === 'online' && item.patient_email === 'pat@example.com');
    assert(booked, 'the booking is not in the diary marked online');
    assert(booked.referral && booked.referral.content_type === 'application/pdf' && booked.referral.size_bytes === 17, 'the referral is not attached');

    // The confirmation SMS carries a manage link: the patient verifies and cancels on a phone.
    const sms = await awaitMessage(base, (m) => m.channel === 'sms' && m.to === '+447700900123' && m.body.includes('is booked'),
      'confirmation SMS');
    const email = await awaitMessage(base, (m) => m.channel === 'email' && m.to === 'pat@example.com' && m.invite,
      'confirmation email with an invite');
    assert(email.invite.method === 'REQUEST' && email.invite.ics.includes(`UID:${booked.id}@clinic-booking`), 'the invite is wrong');
    const manageUrl = sms.body.split(/\s+/).find((word) => word.includes('/manage/'));
    const manage = await browser.newContext(phone);
    const managePage = await manage.newPage();
    await managePage.goto(manageUrl);
    await accessible(managePage, 'manage verification');
    await fitsThePhone(managePage, 'manage verification');
    await managePage.fill('#date_of_birth', '1980-05-17');
    await Promise.all([managePage.waitForNavigation(), managePage.click('text=Continue')]);
    assert((await managePage.textContent('main')).includes('Cancel this appointment'), 'no way to cancel');
    await accessible(managePage, 'manage overview');
    await fitsThePhone(managePage, 'manage overview');
    await Promise.all([managePage.waitForNavigation(), managePage.click('text=Cancel this appointment')]);
    await accessible(managePage, 'cancel question');
    await Promise.all([managePage.waitForNavigation(), managePage.click('text=Yes, cancel it')]);
    assert((await managePage.textContent('h1')).includes('Your appointment is cancelled'), 'the cancellation page is missing');
    await accessible(managePage, 'cancelled');
    await fitsThePhone(managePage, 'cancelled');
    await manage.close();
    const after = await fetch(`${base}/admin/clinics/demo/appointments?date=${date}`, { headers: { authorization: `Bearer ${token}` } });
    const cancelled = (await after.json()).items.find((item) => item.id === booked.id);
    assert(cancelled.status === 'cancelled' && cancelled.cancelled_by === 'patient', `the diary shows ${cancelled.status}`);
    await awaitMessage(base, (m) => m.channel === 'email' && m.to === 'pat@example.com' && m.invite && m.invite.method === 'CANCEL',
      'cancellation email with a CANCEL invite');
  });

  await check('French throughout: names, advice, times, the review and errors, with a switch back to English', async () => {
    const context = await browser.newContext({ ...phone, locale: 'fr-FR' });
    const page = await context.newPage();
    await page.goto(`${base}/book/demo`);
    assert((await page.getAttribute('html', 'lang')) === 'fr', 'html lang is not fr');
    assert((await page.textContent('h1')).includes('Prendre rendez-vous'), 'French heading missing');
    assert((await page.textContent('section.advisory')).includes('appelez le 999'), 'the advice is not in French');
    await accessible(page, 'French booking types');
    await Promise.all([page.waitForNavigation(), page.click('text=Consultation de médecine générale')]);
    await Promise.all([page.waitForNavigation(), page.click('text=Tout praticien disponible')]);
    await Promise.all([page.waitForNavigation(), page.click('text=Tout lieu')]);
    await accessible(page, 'French times');
    await shoot(page, 'book-times-fr');
    const slot = page.locator('details[open] a.slot').first();
    assert(/^(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) \d{1,2} /.test((await slot.textContent()).trim()), 'a French time does not read in French');
    await Promise.all([page.waitForNavigation(), slot.click()]);
    await page.fill('#first_name', 'Pat');
    await page.fill('#last_name', 'Example');
    await page.fill('#date_of_birth', '2090-01-01');
    await page.fill('#mobile', '0770090');
    await page.check('#advisory');
    await Promise.all([page.waitForNavigation(), page.click('button.primary')]);
    const errors = await page.textContent('.errors');
    assert(errors.includes('Date de naissance: ne peut pas être dans le futur') && errors.includes('Numéro de mobile: doit être'),
      `errors not in French: ${errors}`);
    assert(!errors.includes('patient.') && !errors.includes('must'), `internal names or English: ${errors}`);
    await accessible(page, 'French details with errors');
    await shoot(page, 'book-errors-fr');
    await Promise.all([page.waitForNavigation(), page.click('a[hreflang=en]')]);
    assert((await page.getAttribute('html', 'lang')) === 'en', 'the switch did not change the language');
    await context.close();
  });

  await check('the pages work without JavaScript, and ASAP lands on a time', async () => {
    const context = await browser.newContext({ ...phone, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${base}/book/demo`);
    await Promise.all([page.waitForNavigation(), page.click('text=Blood test')]);
    await Promise.all([page.waitForNavigation(), page.click('text=Any available clinician')]);
    await Promise.all([page.waitForNavigation(), page.click('text=Any site')]);
    await Promise.all([page.waitForNavigation(), page.click('text=First available time')]);
    assert((await page.textContent('form h2')).includes('Your details'), 'ASAP did not lead to the details step');
    const review = await page.textContent('dl.review');
    assert(!review.includes('Any available clinician') && !review.includes('Any site'), `ASAP did not say who and where: ${review}`);
    await context.close();
  });

  await check('the pages read well on a desktop screen', async () => {
    const context = await browser.newContext({ ...phone, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/book/demo`);
    await shoot(page, 'book-types-desktop');
    await Promise.all([page.waitForNavigation(), page.click('text=GP consultation')]);
    await Promise.all([page.waitForNavigation(), page.click('text=Any available clinician')]);
    await Promise.all([page.waitForNavigation(), page.click('text=Any site')]);
    await accessible(page, 'desktop times');
    await shoot(page, 'book-times-desktop');
    await context.close();
  });
} finally {
  await browser.close();
}

report();
