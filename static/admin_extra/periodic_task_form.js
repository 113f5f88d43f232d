// The beat schedule's task form (django-celery-beat): under the crontab field, say in words
// what the chosen schedule means. Moved out of the package's template, where it was inline.
"use strict";
django.jQuery(function ($) {
    const readableCrontabs = JSON.parse($("#readable-crontabs").text());
    const help = $(".field-crontab .help");
    const originalHelp = help.html();
    $(".field-crontab_translation").hide();
    $(".field-crontab").change(function () {
        const translation = readableCrontabs[$("#id_crontab").val()] || "";
        help.text("");
        help.html(originalHelp);
        help.append($("<br>"), document.createTextNode("Translation: " + translation));
    });
});
